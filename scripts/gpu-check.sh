#!/usr/bin/env bash
# Runs on a machine with an NVIDIA GPU and no Maven or network, from the bundle that scripts/gpu-bundle.sh prepared
# (target/gpu-bundle), and prints ONE JSON line with the results on stdout:
#   1. engine-cuda's tests, and engine-core's oracle-parity and whole-step suites on the CUDA backend
#      (the oracle cases travel in the bundle, without the 113 MB ResNet50 pair);
#   2. kiln bench on the GPU: ResNet50 full training step and frozen phase, batch 64 and 128, fp32 and TF32;
#   3. PyTorch's equivalent (torch_gpu_bench.py), where this machine's python3 has torch with CUDA.
# Human-readable progress goes to stderr. Everything written goes under /tmp (kiln-gpu-check), never into the
# bundle, which must stay small enough to carry.
#
# CUDA 13 and cuDNN 9 come from a pip PyTorch install (site-packages/nvidia/*/lib); the driver (libcuda.so.1)
# from the system. Environment: KILN_BUNDLE (bundle dir), KILN_TEST_TIMEOUT (seconds per suite, default 240),
# KILN_BENCH=0 to skip the benchmarks, JAVA (java binary), KILN_CHECK_BUDGET (seconds for everything, default 540).
#
# A device call may run 10 minutes and returns only what its command left under $OUT. So every step gets at most
# what is left of the budget, the steps come in order of importance (tests; Kiln fp32; PyTorch; Kiln TF32), and
# the JSON line so far, the log, the JUnit reports (one archive) and any JVM crash report are written to $OUT
# (where set) after each step: at most 5 files, within the device tool's 8. A step that fails its tests is not
# followed by the benchmarks.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -n "${KILN_BUNDLE:-}" ]; then bundle="$KILN_BUNDLE"
elif [ -d "$here/lib" ]; then bundle="$here"                        # running the copy inside the bundle
else bundle="$here/../target/gpu-bundle"; fi
bundle="$(cd "$bundle" 2>/dev/null && pwd)" || { echo '{"error":"no bundle: run scripts/gpu-bundle.sh first"}'; exit 2; }
log() { echo "gpu-check: $*" >&2; }
work="${TMPDIR:-/tmp}/kiln-gpu-check"
rm -rf "$work"; mkdir -p "$work"
# Keep stderr (the test tree, JavaCPP's loading messages) in a file too: the device tool returns only its tail.
exec 2> >(tee "$work/gpu-check.log" >&2)

deadline=$(( $(date +%s) + ${KILN_CHECK_BUDGET:-540} ))
# time_for WANT: the seconds a step may take: WANT, or what is left of the budget; 0 when under 30 s are left.
time_for() {
  local left=$(( deadline - $(date +%s) ))
  if [ "$left" -lt 30 ]; then echo 0; elif [ "$left" -lt "$1" ]; then echo "$left"; else echo "$1"; fi
}

# ---------------------------------------------------------------- Java
java_bin="${JAVA:-}"
if [ -z "$java_bin" ] && [ -f "$bundle/jre.tar.xz" ]; then
  jre_dir="${TMPDIR:-/tmp}/kiln-gpu-check-jre"
  if [ ! -x "$jre_dir/jre/bin/java" ]; then
    mkdir -p "$jre_dir"
    # tar needs the xz program for this; Python's tarfile does not.
    tar -C "$jre_dir" -xJf "$bundle/jre.tar.xz" 2>/dev/null \
      || python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$bundle/jre.tar.xz" "$jre_dir"
  fi
  java_bin="$jre_dir/jre/bin/java"
fi
[ -z "$java_bin" ] && java_bin="$(command -v java || true)"
[ -n "$java_bin" ] && [ -x "$java_bin" ] || { echo '{"error":"no java: install a JDK 17+, or bundle one (the default)"}'; exit 2; }

# ---------------------------------------------------------------- CUDA libraries from pip wheels
nvidia_lib_dirs() {
  python3 - <<'PY' 2>/dev/null
import glob, os, site
roots = set()
try:
    import nvidia
    roots.update(nvidia.__path__)
except Exception:
    pass
try:
    for sp in site.getsitepackages() + [site.getusersitepackages()]:
        roots.add(os.path.join(sp, "nvidia"))
except Exception:
    pass
dirs = set()
for r in roots:
    dirs.update(d for d in glob.glob(os.path.join(r, "*", "lib")) if os.path.isdir(d))
print("\n".join(sorted(dirs)))
PY
  # Without a usable python3, look in the usual places.
  for d in /usr/lib/python3*/site-packages/nvidia/*/lib /usr/local/lib/python3*/*-packages/nvidia/*/lib \
           /opt/conda/lib/python3*/site-packages/nvidia/*/lib "${HOME:-/root}"/.local/lib/python3*/site-packages/nvidia/*/lib \
           /usr/lib/python3/dist-packages/nvidia/*/lib /opt/*/.venv/lib/python3*/site-packages/nvidia/*/lib; do
    [ -d "$d" ] && echo "$d"
  done
  # The driver's own folder, where a container mounts it outside the linker's default path.
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
    [ -e "$d/libcuda.so.1" ] && echo "$d"
  done
}
libdirs="$(nvidia_lib_dirs | sort -u | paste -sd: -)"
[ -n "$libdirs" ] && export LD_LIBRARY_PATH="$libdirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
log "java: $java_bin"
log "LD_LIBRARY_PATH: ${LD_LIBRARY_PATH:-<empty>}"
gpu="$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"
log "GPU: ${gpu:-<nvidia-smi not available>}"

# ---------------------------------------------------------------- tests
cp="$bundle/test-classes:$bundle/lib/*"
reports="$work/reports"
mkdir -p "$reports"
jvm=(-Xmx8g -Xss8m --enable-native-access=ALL-UNNAMED -XX:ErrorFile="$work/hs_err_%p.log"
     -Dorg.bytedeco.javacpp.maxBytes=16g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0
     -Dorg.bytedeco.javacpp.cachedir="$work/javacpp-cache"
     -Djava.library.path="${LD_LIBRARY_PATH:-}"
     -Dkiln.cuda.debugSync="${KILN_DEBUG_SYNC:-true}")
start=$(date +%s)
# JUnit Jupiter only: the other engines would each write an empty report.
junit=(org.junit.platform.console.ConsoleLauncher execute --disable-banner --disable-ansi-colors --details=tree
       --exclude-engine=junit-vintage --exclude-engine=junit-platform-suite)
# bounded SECONDS COMMAND...: runs it with a time limit, and kills a JVM stuck in the driver 15 s after that.
# (GNU timeout takes 0 as "no limit": callers skip a step instead.)
bounded() { local t="$1"; shift; timeout -k 15 "$t" "$@"; }
# The host-emulation tests (CPU only) ran in CI already; here only what needs the GPU.
t="$(time_for "${KILN_TEST_TIMEOUT:-240}")"
rc=124
[ "$t" != 0 ] && { bounded "$t" "$java_bin" "${jvm[@]}" -cp "$cp" "${junit[@]}" --select-package=dev.kiln.cuda \
    --exclude-classname='dev[.]kiln[.]cuda[.](Emulated|HostKernels).*' --reports-dir="$reports" >&2; rc=$?; }
# engine-core's oracle-parity and whole-step suites, unchanged, on the CUDA backend.
parity_reports="$work/reports-parity"
mkdir -p "$parity_reports"
t="$(time_for "${KILN_TEST_TIMEOUT:-240}")"
parity_rc=124
[ "$t" != 0 ] && { bounded "$t" "$java_bin" "${jvm[@]}" -Dkiln.test.backend=cuda -Dkiln.oracle.dir="$bundle/oracle" \
    -cp "$cp" "${junit[@]}" --select-class=dev.kiln.oracle.OracleParityTest \
    --select-class=dev.kiln.oracle.BackendAgreementTest --reports-dir="$parity_reports" >&2; parity_rc=$?; }
[ "$rc" = 0 ] && rc=$parity_rc
seconds=$(( $(date +%s) - start ))

attr() { # attr NAME XML: a count from the first <testsuite> element
  [ -n "$2" ] && grep -m1 -o "<testsuite [^>]*" "$2" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
xml="$(ls "$reports"/*.xml 2>/dev/null | head -1)"
pxml="$(ls "$parity_reports"/*.xml 2>/dev/null | head -1)"
tests=$(( $(attr tests "$xml") + $(attr tests "$pxml") ))
failures=$(( $(attr failures "$xml") + $(attr failures "$pxml") ))
errors=$(( $(attr errors "$xml") + $(attr errors "$pxml") ))
skipped=$(( $(attr skipped "$xml") + $(attr skipped "$pxml") ))
tests=${tests:-0}; failures=${failures:-0}; errors=${errors:-0}; skipped=${skipped:-0}
passed=$(( tests - failures - errors - skipped ))
failed_names="$(cat $xml $pxml </dev/null 2>/dev/null | grep -B1 -E '<(failure|error)' | grep -o 'testcase name="[^"]*"' | cut -d'"' -f2 | paste -sd, - )"
# Where the CUDA backend never started, every CUDA test is skipped, and JUnit counts skips as success: that is a
# failed check here, with the backend's reason in the JSON line. (A few parity cases skip on any backend.)
unavailable="$(cat $xml $pxml </dev/null 2>/dev/null | grep -o -m1 -E "CUDA backend unavailable: [^<]*|backend 'cuda' is not available[^<]*" \
  | head -1 | tr -d '"\\' | cut -c1-300)"
if [ -n "$unavailable" ] || [ "$tests" = 0 ]; then rc=1; fi

# ---------------------------------------------------------------- results so far
bench_lines=""
torch="null"
# emit: the JSON line with everything measured so far, on stdout (final) or into $OUT (after each step).
result_json() {
  local bench="[$(printf '%s' "$bench_lines" | grep '^{' | paste -sd, -)]"
  printf '{"gpu":"%s","tests":%d,"passed":%d,"failed":%d,"errors":%d,"skipped":%d,"exit":%d,"seconds":%d,"failures":"%s","cuda_unavailable":"%s","kiln_bench":%s,"torch_bench":%s}\n' \
    "${gpu//\"/}" "$tests" "$passed" "$failures" "$errors" "$skipped" "$rc" "$seconds" "$failed_names" "$unavailable" \
    "$bench" "$torch"
}
save_progress() {
  [ -n "${OUT:-}" ] || return 0
  mkdir -p "$OUT"
  result_json > "$OUT/gpu-check.json"
  tar -C "$work" -czf "$OUT/reports.tar.gz" reports reports-parity 2>/dev/null
  cp "$work/gpu-check.log" "$OUT/" 2>/dev/null
  cp "$work/bench.log" "$OUT/" 2>/dev/null
  cat "$work"/hs_err_*.log > "$OUT/hs_err.log" 2>/dev/null || rm -f "$OUT/hs_err.log"
  return 0
}
save_progress

# ---------------------------------------------------------------- benchmarks
# kiln_bench TF32: ResNet50 on the GPU, full training step and frozen phase, batch 64 and 128 (one JSON line each).
kiln_bench() {
  local tf32="$1" batch t out
  for batch in 64 128; do
    t="$(time_for "${KILN_BENCH_TIMEOUT:-150}")"
    [ "$t" = 0 ] && { log "time budget spent: no Kiln benchmark at batch $batch, tf32 $tf32"; return; }
    out="$(bounded "$t" "$java_bin" "${jvm[@]}" -Dkiln.cuda.debugSync=false -Dkiln.cuda.tf32="$tf32" \
        -cp "$cp" dev.kiln.bench.ResNetBench --device cuda --case train,frozen --batch "$batch" --steps 5 --warmup 2 \
        --json 2>>"$work/bench.log" | sed "s/^{/{\"tf32\":$tf32,/")"
    bench_lines="$bench_lines${out:+$out$'\n'}"
    save_progress
  done
}
# PyTorch's equivalent, where this Python has torch with CUDA: one JSON line per case, so that a run cut short
# keeps the cases it finished.
torch_bench() {
  local t lines
  python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null || return 0
  t="$(time_for "${KILN_TORCH_TIMEOUT:-150}")"
  [ "$t" = 0 ] && { log "time budget spent: no PyTorch benchmark"; return; }
  lines="$(PYTHONUNBUFFERED=1 bounded "$t" python3 "$here/torch_gpu_bench.py" 2>>"$work/bench.log" | grep '^{')"
  [ -n "$lines" ] && torch="[$(printf '%s' "$lines" | paste -sd, -)]"
  save_progress
}
if [ "${KILN_BENCH:-1}" != 1 ]; then
  log "KILN_BENCH=0: no benchmarks"
elif [ -n "$unavailable" ]; then
  log "no benchmarks: the CUDA backend did not start"
elif [ $(( failures + errors )) -gt 0 ]; then
  log "no benchmarks: $(( failures + errors )) tests failed, so the figures would mean little"
else
  kiln_bench false
  torch_bench
  kiln_bench true
fi

result_json
save_progress
[ "$rc" = 0 ]
