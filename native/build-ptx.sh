#!/usr/bin/env bash
# Compiles native/kernels.cu to PTX for compute_75 (the lowest architecture CUDA 13 supports) into
# core's resources, where CudaDevice loads it with cuModuleLoadData.
#   native/build-ptx.sh           rebuild the PTX
#   native/build-ptx.sh --check   fail if the committed PTX differs from a fresh build (CI, when nvcc is present)
#
# A driver refuses PTX whose ISA version is newer than it knows (CUDA_ERROR_UNSUPPORTED_PTX_VERSION),
# and nvcc 13 stamps every file 9.0, which only r580+ drivers read. The kernels use nothing newer
# than ISA 7.0 (CUDA 11.0), so the stamp is lowered to that, and ptxas, which rejects instructions
# the declared ISA lacks, proves the lowered file is still valid.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target="$here/../core/src/main/resources/dev/isthmus/device/cuda/kernels.ptx"
isa=7.0
command -v nvcc >/dev/null || { echo "build-ptx: nvcc is not on PATH" >&2; exit 2; }
ptxas=$(command -v ptxas || ls "${CUDA_HOME:-/usr/local/cuda}/bin/ptxas" 2>/dev/null) \
  || { echo "build-ptx: ptxas is neither on PATH nor in \$CUDA_HOME/bin" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nvcc -ptx -arch=compute_75 -O3 -o "$work/raw.ptx" "$here/kernels.cu"
sed -E "s/^\.version [0-9]+\.[0-9]+$/.version $isa/" "$work/raw.ptx" > "$work/kernels.ptx"
grep -qx "\.version $isa" "$work/kernels.ptx" || { echo "build-ptx: no .version line in nvcc's output" >&2; exit 1; }
"$ptxas" -arch=sm_75 -o "$work/kernels.cubin" "$work/kernels.ptx" \
  || { echo "build-ptx: the kernels need a PTX ISA newer than $isa: raise isa in $0" >&2; exit 1; }
if [ "${1:-}" = "--check" ]; then
  # Another nvcc release writes other (equally valid) PTX: then only the compilation is checked.
  made_by=$(grep -m1 '^// Cuda compilation tools' "$target" || true)
  this_one=$(grep -m1 '^// Cuda compilation tools' "$work/kernels.ptx" || true)
  if [ "$made_by" != "$this_one" ]; then
    echo "build-ptx: kernels.cu compiles; the committed PTX came from another nvcc (${made_by#// }), not compared"
    exit 0
  fi
  if ! cmp -s "$work/kernels.ptx" "$target"; then
    echo "build-ptx: $target is stale: run native/build-ptx.sh and commit the result" >&2
    exit 1
  fi
  echo "build-ptx: the committed PTX is fresh"
  exit 0
fi
mkdir -p "$(dirname "$target")"
cp "$work/kernels.ptx" "$target"
echo "build-ptx: wrote $target (PTX ISA $isa, $(wc -c < "$target") bytes, $(nvcc --version | tail -1))"
