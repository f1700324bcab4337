#!/usr/bin/env bash
# Kiln's ResNetBench and the PyTorch yardstick (../shared/anchors/bench_torch_resnet50.py) back to back on the same
# cores, then images/s of each and their ratio per case. Both run with OpenBLAS's core type autodetected: the
# environment's OPENBLAS_CORETYPE=Haswell halves OpenBLAS's speed (see ../shared/design/NATIVE-NOTES.md).
#
#   scripts/bench-vs-torch.sh [--threads 2] [--steps 5] [--warmup 2] [--cases inference,train,frozen,unfreeze-layer4]
#
# Build first: mvn -q -B -o -pl bench -am package -DskipTests
# PyTorch is skipped, with a message, when /usr/bin/python3 cannot import torch.
set -euo pipefail

THREADS=2 STEPS=5 WARMUP=2 CASES="inference,train,frozen,unfreeze-layer4"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --cases) CASES="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ANCHORS="${KILN_SHARED_DIR:-$ROOT/../shared}/anchors"
JAR="$ROOT/bench/target/bench-0.1.0-SNAPSHOT.jar"
if [[ ! -f "$JAR" ]]; then
  echo "missing $JAR; build it with: mvn -q -B -o -pl bench -am package -DskipTests" >&2
  exit 1
fi
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
FAST_BLAS=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE GLIBC_TUNABLES=glibc.malloc.hugetlb=1)

# The yardstick's batches: inference at 8, the training cases at 16.
# Tensors live off-heap; the Java heap only holds short-lived scratch arrays, so a 64 MiB young generation keeps
# about 40 MiB of eden pages out of the peak RSS at no measured cost in speed.
kiln() { # kiln CASES BATCH
  "${FAST_BLAS[@]}" java -Xmx1g -Xmn64m -XX:+UseParallelGC -cp "$JAR:$ROOT/bench/target/lib/*" dev.kiln.bench.ResNetBench \
    --case "$1" --batch "$2" --threads "$THREADS" --steps "$STEPS" --warmup "$WARMUP" --json >>"$OUT/kiln.jsonl"
}
echo "== Kiln (threads $THREADS)" >&2
IFS=',' read -ra WANT <<<"$CASES"
TRAINING=()
for c in "${WANT[@]}"; do
  if [[ "$c" == inference ]]; then kiln inference 8; else TRAINING+=("$c"); fi
done
if [[ ${#TRAINING[@]} -gt 0 ]]; then kiln "$(IFS=,; echo "${TRAINING[*]}")" 16; fi

TORCH_JSON=""
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  SECTIONS=()
  for c in "${WANT[@]}"; do
    case "$c" in
      inference) SECTIONS+=(infer) ;;
      train) SECTIONS+=(train) ;;
      frozen) SECTIONS+=(frozen) ;;
      unfreeze-layer4) SECTIONS+=(unfreeze) ;;
    esac
  done
  echo "== PyTorch (threads $THREADS)" >&2
  "${FAST_BLAS[@]}" /usr/bin/python3 "$ANCHORS/bench_torch_resnet50.py" --threads "$THREADS" --iters "$STEPS" \
    --warmup "$WARMUP" --sections "$(IFS=,; echo "${SECTIONS[*]}")" --out "$OUT/torch.json" >&2
  TORCH_JSON="$OUT/torch.json"
else
  echo "== PyTorch skipped: /usr/bin/python3 cannot import torch" \
       "(apt-get install -y python3-torch python3-torchvision libopenblas0-openmp)" >&2
fi

/usr/bin/python3 - "$OUT/kiln.jsonl" "$TORCH_JSON" <<'PY'
import json, sys
kiln = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
torch = json.load(open(sys.argv[2]))["runs"][-1]["results"] if sys.argv[2] else {}
keys = {"inference": "infer_bs{b}", "train": "train_full_bs{b}", "frozen": "frozen_base_bs{b}",
        "unfreeze-layer4": "unfreeze_layer4_bs{b}_l4BNeval"}
print(f"{'case':16s} {'batch':>5s} {'Kiln img/s':>11s} {'torch img/s':>12s} {'Kiln/torch':>11s} {'Kiln GFLOP/s':>13s} {'Kiln RSS MiB':>13s}")
for k in kiln:
    t = torch.get(keys[k["case"]].format(b=k["batch"]), {}).get("img_s_median")
    ratio = f"{k['images_per_second'] / t:11.2f}" if t else f"{'-':>11s}"
    ts = f"{t:12.2f}" if t else f"{'-':>12s}"
    print(f"{k['case']:16s} {k['batch']:5d} {k['images_per_second']:11.2f} {ts} {ratio} {k['gflops']:13.1f} {k['peak_rss_mib']:13.0f}")
PY
