#!/usr/bin/env bash
# Regenerates the committed bindings in bindings/src/generated/java with jextract.
#
# Usage: bindings/jextract/regenerate.sh CBLAS_INCLUDE CUDA_INCLUDE NVIDIA_INCLUDE [LIBRARY ...]
#   CBLAS_INCLUDE   folder holding OpenBLAS's cblas.h  (Debian: /usr/include/x86_64-linux-gnu/openblas-pthread)
#   CUDA_INCLUDE    folder holding the CUDA toolkit's cuda.h and driver_types.h (/usr/local/cuda/include)
#   NVIDIA_INCLUDE  folder holding cublas_v2.h and cudnn.h with what they include
#                   (cuDNN's are not in Debian: every cudnn*.h of a cuDNN 9 redistributable's include/)
#   LIBRARY         any of cblas cuda cublas cudnn dnnl omp mpi nccl (default: all)
# oneDNN's dnnl.h is read from DNNL_INCLUDE (default /usr/include, Debian's libdnnl-dev) and gcc's
# omp.h from OMP_INCLUDE (default: gcc -print-file-name=include), Open MPI's mpi.h from MPI_INCLUDE
# (default /usr/lib/x86_64-linux-gnu/openmpi/include, Debian's libopenmpi-dev), NVIDIA's nccl.h from
# NCCL_INCLUDE (default NVIDIA_INCLUDE; pip's nvidia-nccl-cu13 has it in nvidia/nccl/include).
#
# Needs a `jextract` for JDK 25 on PATH (a developer tool: neither it nor the headers are committed).
# Each <library>.args file lists the symbols to generate. jextract silently skips a name it cannot
# find, so after generating, this script checks that every requested symbol is in the output.
# The bindings are generated without -l: the one edit made afterwards points each header class's
# SYMBOL_LOOKUP at the project's locator (dev.isthmus.bindings.NativeLibrary), so that loading a
# class never needs the library and a missing library fails on first call, naming every place tried.
set -euo pipefail

if [ $# -lt 3 ]; then
  sed -n '2,17p' "$0" >&2
  exit 2
fi
cblas_include=$1 cuda_include=$2 nvidia_include=$3
shift 3
libraries=("$@")
[ ${#libraries[@]} -gt 0 ] || libraries=(cblas cuda cublas cudnn dnnl omp mpi nccl)
dnnl_include=${DNNL_INCLUDE:-/usr/include}
omp_include=${OMP_INCLUDE:-$(gcc -print-file-name=include)}
mpi_include=${MPI_INCLUDE:-/usr/lib/x86_64-linux-gnu/openmpi/include}
nccl_include=${NCCL_INCLUDE:-$nvidia_include}

here=$(cd "$(dirname "$0")" && pwd)
output_root="$here/../src/generated/java"
command -v jextract >/dev/null || { echo "regenerate: no jextract on PATH (build it for JDK 25 from openjdk/jextract)" >&2; exit 2; }

generate() {
  local library=$1 header=$2 locator=$3; shift 3
  local package_dir work
  package_dir=dev/isthmus/bindings/$library
  work=$(mktemp -d)
  # Argument files carry comments for people; jextract gets only the options.
  grep -v '^[[:space:]]*#' "$here/$library.args" | grep -v '^[[:space:]]*$' > "$work/args"
  echo "regenerate: $library from $header"
  jextract --output "$work/out" "$@" "@$work/args" "$header"

  local missing=0 kind name
  while read -r kind name; do
    case "$kind" in
      --include-function) pattern="public static [^=]* ${name}\\(" ;;
      --include-constant) pattern="public static [^=]* ${name}\\(\\)" ;;
      --include-struct|--include-typedef|--include-union) pattern="class ${name}\b" ;;
      *) continue ;;
    esac
    if ! grep -rqE "$pattern" "$work/out/$package_dir"; then
      echo "regenerate: $library: requested symbol $name is not in jextract's output" >&2
      missing=1
    fi
  done < "$work/args"
  [ $missing = 0 ] || { rm -rf "$work"; exit 1; }

  # The lookup hook (the only edit to generated code).
  local hooked
  hooked=$(grep -rl 'static final SymbolLookup SYMBOL_LOOKUP' "$work/out/$package_dir")
  [ "$(printf '%s\n' "$hooked" | grep -c .)" = 1 ] || { echo "regenerate: $library: expected one SYMBOL_LOOKUP, found: $hooked" >&2; exit 1; }
  perl -0pi -e "s/static final SymbolLookup SYMBOL_LOOKUP = SymbolLookup\.loaderLookup\(\)\s*\.or\(Linker\.nativeLinker\(\)\.defaultLookup\(\)\);/static final SymbolLookup SYMBOL_LOOKUP = dev.isthmus.bindings.NativeLibrary.$locator.symbols();/" "$hooked"
  grep -q "NativeLibrary.$locator.symbols()" "$hooked" || { echo "regenerate: $library: the SYMBOL_LOOKUP hook did not apply" >&2; exit 1; }

  rm -rf "${output_root:?}/$package_dir"
  mkdir -p "$output_root/$package_dir"
  cp "$work/out/$package_dir"/*.java "$output_root/$package_dir/"
  echo "regenerate: $library: $(ls "$output_root/$package_dir" | wc -l) files"
  rm -rf "$work"
}

for library in "${libraries[@]}"; do
  case "$library" in
    cblas)  generate cblas "$cblas_include/cblas.h" OPENBLAS -I "$cblas_include" ;;
    cuda)   generate cuda "$cuda_include/cuda.h" CUDA -I "$cuda_include" ;;
    cublas) generate cublas "$nvidia_include/cublas_v2.h" CUBLAS -I "$nvidia_include" -I "$cuda_include" ;;
    cudnn)  generate cudnn "$nvidia_include/cudnn.h" CUDNN -I "$nvidia_include" -I "$cuda_include" ;;
    dnnl)   generate dnnl "$dnnl_include/oneapi/dnnl/dnnl.h" DNNL -I "$dnnl_include" ;;
    # gcc's omp.h uses __attribute__((__malloc__(f, n))), which libclang 14 rejects; the attribute
    # only matters to gcc's warnings, so it is defined away.
    omp)    generate omp "$omp_include/omp.h" OPENMP -I "$omp_include" "-D__malloc__(...)=" ;;
    mpi)    generate mpi "$mpi_include/mpi.h" MPI -I "$mpi_include" ;;
    nccl)   generate nccl "$nccl_include/nccl.h" NCCL -I "$nccl_include" -I "$cuda_include" ;;
    *) echo "regenerate: unknown library $library (cblas cuda cublas cudnn dnnl omp mpi nccl)" >&2; exit 2 ;;
  esac
done
