#!/usr/bin/env bash
# Runs Kiln's CUDA test suite on a machine with an NVIDIA GPU and no Maven or network, from the bundle that
# scripts/gpu-bundle.sh prepared (target/gpu-bundle), and prints ONE JSON line with the results on stdout.
# Human-readable progress goes to stderr; the JUnit XML report to target/gpu-bundle/reports.
#
# CUDA 13 and cuDNN 9 come from a pip PyTorch install (site-packages/nvidia/*/lib); the driver (libcuda.so.1)
# from the system. Environment: KILN_BUNDLE (bundle dir), KILN_TEST_TIMEOUT (seconds, default 420),
# KILN_BENCH=1 to run the benchmark after the tests, JAVA (java binary).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ -n "${KILN_BUNDLE:-}" ]; then bundle="$KILN_BUNDLE"
elif [ -d "$here/lib" ]; then bundle="$here"                        # running the copy inside the bundle
else bundle="$here/../target/gpu-bundle"; fi
bundle="$(cd "$bundle" 2>/dev/null && pwd)" || { echo '{"error":"no bundle: run scripts/gpu-bundle.sh first"}'; exit 2; }
log() { echo "gpu-check: $*" >&2; }

# ---------------------------------------------------------------- Java
java_bin="${JAVA:-}"
[ -z "$java_bin" ] && [ -x "$bundle/jre/bin/java" ] && java_bin="$bundle/jre/bin/java"
[ -z "$java_bin" ] && java_bin="$(command -v java || true)"
[ -n "$java_bin" ] || { echo '{"error":"no java: install a JDK 17+ or bundle one with KILN_JLINK=1"}'; exit 2; }

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
           /opt/conda/lib/python3*/site-packages/nvidia/*/lib "$HOME"/.local/lib/python3*/site-packages/nvidia/*/lib \
           /usr/lib/python3/dist-packages/nvidia/*/lib; do
    [ -d "$d" ] && echo "$d"
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
reports="$bundle/reports"
rm -rf "$reports"; mkdir -p "$reports"
jvm=(-Xmx8g -Xss8m --enable-native-access=ALL-UNNAMED
     -Dorg.bytedeco.javacpp.maxBytes=16g -Dorg.bytedeco.javacpp.maxPhysicalBytes=0
     -Dorg.bytedeco.javacpp.cachedir="$bundle/.javacpp-cache"
     -Djava.library.path="${LD_LIBRARY_PATH:-}"
     -Dkiln.cuda.debugSync="${KILN_DEBUG_SYNC:-true}")
start=$(date +%s)
timeout "${KILN_TEST_TIMEOUT:-420}" "$java_bin" "${jvm[@]}" -cp "$cp" org.junit.platform.console.ConsoleLauncher \
    execute --disable-banner --disable-ansi-colors --details=tree --select-package=dev.kiln.cuda --reports-dir="$reports" >&2
rc=$?
seconds=$(( $(date +%s) - start ))

xml="$(ls "$reports"/*.xml 2>/dev/null | head -1)"
attr() { [ -n "$xml" ] && grep -m1 -o "<testsuite [^>]*" "$xml" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
tests=$(attr tests); failures=$(attr failures); errors=$(attr errors); skipped=$(attr skipped)
tests=${tests:-0}; failures=${failures:-0}; errors=${errors:-0}; skipped=${skipped:-0}
passed=$(( tests - failures - errors - skipped ))
failed_names="$( [ -n "$xml" ] && grep -B1 -E '<(failure|error)' "$xml" | grep -o 'testcase name="[^"]*"' | cut -d'"' -f2 | paste -sd, - )"

# ---------------------------------------------------------------- benchmark (TODO: provided by the bench module)
has_class() {  # is $1 in one of the bundle's jars?
  python3 -c 'import sys, zipfile, glob
sys.exit(0 if any(sys.argv[1] in zipfile.ZipFile(j).namelist() for j in glob.glob(sys.argv[2] + "/lib/*.jar")) else 1)' "$1" "$bundle" 2>/dev/null \
  || { for j in "$bundle"/lib/*.jar; do unzip -l "$j" 2>/dev/null | grep -q "$1" && return 0; done; return 1; }
}
bench="not run"
if [ "${KILN_BENCH:-0}" = 1 ]; then
  if has_class "dev/kiln/bench/Main.class"; then
    timeout "${KILN_BENCH_TIMEOUT:-300}" "$java_bin" "${jvm[@]}" -cp "$cp" dev.kiln.bench.Main --device cuda >&2 \
      && bench="ok" || bench="failed"
  else
    bench="no dev.kiln.bench.Main in the bundle"
  fi
fi

printf '{"gpu":"%s","tests":%d,"passed":%d,"failed":%d,"errors":%d,"skipped":%d,"exit":%d,"seconds":%d,"failures":"%s","bench":"%s"}\n' \
  "${gpu//\"/}" "$tests" "$passed" "$failures" "$errors" "$skipped" "$rc" "$seconds" "$failed_names" "$bench"
[ "$rc" = 0 ]
