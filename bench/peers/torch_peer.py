#!/usr/bin/python3
"""Runs shared/peers/torch_bench.py in this process and then says which BLAS PyTorch actually used.

  /usr/bin/python3 bench/peers/torch_peer.py --peers ../shared/peers --config NAME [torch_bench.py arguments]

Everything after the wrapper's own options goes to torch_bench.py unchanged. Afterwards one line
  PEER {"config": NAME, "blas": [...], "openmp": [...], "torch": VERSION, "env": {...}}
names the BLAS and OpenMP libraries mapped into this process (read from /proc/self/maps, after the
models ran, so whatever PyTorch loaded lazily is there too) and the OpenBLAS variables it ran with.
Debian's python3-torch links libblas.so.3, which the alternatives system points at the reference
BLAS unless an optimized one (libopenblas0-pthread) is installed: the report prints what was loaded
so that a handicapped peer shows.
"""
import argparse
import json
import os
import re
import runpy
import sys

BLAS = re.compile(r'lib(open)?blas|libmkl|libblis|libcblas|libflexiblas|libatlas')
OPENMP = re.compile(r'lib(g|i)?omp')


def mapped_libraries(pattern):
    """Distinct paths of the mapped files whose name matches pattern (real paths, links resolved)."""
    found = []
    with open('/proc/self/maps') as maps:
        for line in maps:
            parts = line.split(None, 5)
            if len(parts) == 6:
                path = parts[5].strip()
                if path.startswith('/') and pattern.search(os.path.basename(path)) and path not in found:
                    found.append(path)
    return found


def main():
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--peers', required=True, help='folder holding torch_bench.py and torch_models.py')
    parser.add_argument('--config', required=True, help='a label for this configuration (threads and environment)')
    own, rest = parser.parse_known_args()
    script = os.path.join(own.peers, 'torch_bench.py')
    sys.argv = [script] + rest
    sys.path.insert(0, own.peers)
    try:
        runpy.run_path(script, run_name='__main__')
    except SystemExit as exit:
        if exit.code not in (None, 0):
            raise
    import torch
    print('PEER ' + json.dumps({
        'config': own.config,
        'blas': mapped_libraries(BLAS),
        'openmp': mapped_libraries(OPENMP),
        'torch': torch.__version__,
        'env': {name: os.environ[name] for name in sorted(os.environ) if name.startswith(('OPENBLAS_', 'OMP_'))},
    }), flush=True)


if __name__ == '__main__':
    main()
