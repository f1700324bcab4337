#!/usr/bin/env bash
# Kiln's ResNetBench and the PyTorch yardstick (../shared/anchors/bench_torch_resnet50.py) back to back on the same
# cores, then images/s of each and their ratio per case. Both run with OpenBLAS's core type autodetected: the
# environment's OPENBLAS_CORETYPE=Haswell halves OpenBLAS's speed (see ../shared/design/NATIVE-NOTES.md).
#
#   scripts/bench-vs-torch.sh [--threads 2] [--steps 5] [--warmup 2] [--repeat 1]
#                             [--cases inference,train,frozen,unfreeze-layer4]
#
# --repeat N runs the Kiln/PyTorch pair N times in a row and reports each round and the median over rounds: on a
# shared machine one round can stall either side.
# Build first: mvn -q -B -o -pl bench -am package -DskipTests
# PyTorch is skipped, with a message, when /usr/bin/python3 cannot import torch.
set -euo pipefail

THREADS=2 STEPS=5 WARMUP=2 REPEAT=1 CASES="inference,train,frozen,unfreeze-layer4"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    --steps) STEPS="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --cases) CASES="$2"; shift 2 ;;
    --repeat) REPEAT="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
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
# OPENBLAS_THREAD_TIMEOUT as the kiln launcher sets it (see there); it only concerns Kiln's OpenBLAS build.
kiln() { # kiln CASES BATCH ROUND
  "${FAST_BLAS[@]}" OPENBLAS_THREAD_TIMEOUT="${OPENBLAS_THREAD_TIMEOUT:-14}" java -Xmx1g -Xmn64m -XX:+UseParallelGC -cp "$JAR:$ROOT/bench/target/lib/*" dev.kiln.bench.ResNetBench \
    --case "$1" --batch "$2" --threads "$THREADS" --steps "$STEPS" --warmup "$WARMUP" --json >>"$OUT/kiln.$3.jsonl"
}
IFS=',' read -ra WANT <<<"$CASES"
HAVE_TORCH=0
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  HAVE_TORCH=1
else
  echo "== PyTorch skipped: /usr/bin/python3 cannot import torch" \
       "(apt-get install -y python3-torch python3-torchvision libopenblas0-openmp)" >&2
fi
SECTIONS=()
for c in "${WANT[@]}"; do
  case "$c" in
    inference) SECTIONS+=(infer) ;;
    train) SECTIONS+=(train) ;;
    frozen) SECTIONS+=(frozen) ;;
    unfreeze-layer4) SECTIONS+=(unfreeze) ;;
  esac
done

for ((round = 1; round <= REPEAT; round++)); do
  echo "== round $round of $REPEAT: Kiln (threads $THREADS), load $(cut -d' ' -f1 /proc/loadavg)" >&2
  TRAINING=()
  for c in "${WANT[@]}"; do
    if [[ "$c" == inference ]]; then kiln inference 8 "$round"; else TRAINING+=("$c"); fi
  done
  if [[ ${#TRAINING[@]} -gt 0 ]]; then kiln "$(IFS=,; echo "${TRAINING[*]}")" 16 "$round"; fi
  if [[ $HAVE_TORCH == 1 ]]; then
    echo "== round $round of $REPEAT: PyTorch (threads $THREADS)" >&2
    "${FAST_BLAS[@]}" /usr/bin/python3 "$ANCHORS/bench_torch_resnet50.py" --threads "$THREADS" --iters "$STEPS" \
      --warmup "$WARMUP" --sections "$(IFS=,; echo "${SECTIONS[*]}")" --out "$OUT/torch.$round.json" >&2
  fi
done

/usr/bin/python3 - "$OUT" "$REPEAT" "$HAVE_TORCH" <<'PY'
import json, statistics, sys
out, rounds, have_torch = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
keys = {"inference": "infer_bs{b}", "train": "train_full_bs{b}", "frozen": "frozen_base_bs{b}",
        "unfreeze-layer4": "unfreeze_layer4_bs{b}_l4BNeval"}
rows = {}  # (case, batch) -> list of (kiln result, torch img/s or None), one per round
for r in range(1, rounds + 1):
    torch = json.load(open(f"{out}/torch.{r}.json"))["runs"][-1]["results"] if have_torch else {}
    for line in open(f"{out}/kiln.{r}.jsonl"):
        if not line.strip().startswith("{"):
            continue
        k = json.loads(line)
        t = torch.get(keys[k["case"]].format(b=k["batch"]), {}).get("img_s_median")
        rows.setdefault((k["case"], k["batch"]), []).append((k, t))

def fmt(v, width, digits=2):
    return f"{v:{width}.{digits}f}" if v is not None else f"{'-':>{width}s}"

head = f"{'case':16s} {'batch':>5s} {'Kiln img/s':>11s} {'torch img/s':>12s} {'Kiln/torch':>11s} {'Kiln GFLOP/s':>13s} {'Kiln RSS MiB':>13s}"
if rounds > 1:
    print("per round:")
    print(f"{'round':>5s} " + head)
    for (case, batch), results in rows.items():
        for r, (k, t) in enumerate(results, 1):
            ratio = k["images_per_second"] / t if t else None
            print(f"{r:5d} {case:16s} {batch:5d} {fmt(k['images_per_second'], 11)} {fmt(t, 12)} {fmt(ratio, 11)}"
                  f" {fmt(k['gflops'], 13, 1)} {fmt(k['peak_rss_mib'], 13, 0)}")
    print(f"median over {rounds} rounds (the ratio is the median of the rounds' ratios):")
print(head)
for (case, batch), results in rows.items():
    kiln_ips = statistics.median(k["images_per_second"] for k, _ in results)
    torch_ips = [t for _, t in results if t]
    ratios = [k["images_per_second"] / t for k, t in results if t]
    print(f"{case:16s} {batch:5d} {fmt(kiln_ips, 11)} {fmt(statistics.median(torch_ips) if torch_ips else None, 12)}"
          f" {fmt(statistics.median(ratios) if ratios else None, 11)}"
          f" {fmt(statistics.median(k['gflops'] for k, _ in results), 13, 1)}"
          f" {fmt(max(k['peak_rss_mib'] for k, _ in results), 13, 0)}")
PY
