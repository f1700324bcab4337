#!/usr/bin/env bash
# Compiles every CUDA C kernel file to PTX with nvcc, so that CI catches syntax errors without a GPU.
# The engine itself compiles the same sources with NVRTC at run time (see ../README.md); this is only a check.
# Usage: engine-cuda/scripts/check-ptx.sh [arch ...]   (default: sm_80 sm_90)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
nvcc_bin="${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}"
[ -x "$nvcc_bin" ] || { echo "check-ptx: nvcc not found (set NVCC=...)" >&2; exit 2; }
archs=("$@"); [ ${#archs[@]} -gt 0 ] || archs=(sm_80 sm_90)
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
status=0
for cu in "$here"/src/main/cuda/*.cu; do
  for arch in "${archs[@]}"; do
    if "$nvcc_bin" -ptx -arch="$arch" -fmad=false -Werror all-warnings -o "$out/$(basename "$cu" .cu).$arch.ptx" "$cu"; then
      echo "ok    $(basename "$cu") $arch"
    else
      echo "FAIL  $(basename "$cu") $arch"; status=1
    fi
  done
done
exit $status
