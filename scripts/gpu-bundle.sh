#!/usr/bin/env bash
# Prepares everything scripts/gpu-check.sh needs on a GPU machine that has neither Maven nor a network:
#   target/gpu-bundle/lib/           every module jar and every runtime + test dependency jar
#   target/gpu-bundle/test-classes/  engine-cuda's compiled tests
#   target/gpu-bundle/jre/           (only with KILN_JLINK=1) a small Java runtime made with jlink
#   target/gpu-bundle/gpu-check.sh   a copy of the check script
# Run from anywhere inside the repository. Uses Maven offline (-o) unless MAVEN_OFFLINE=0; the first run on a
# fresh machine needs MAVEN_OFFLINE=0 to download junit-platform-console-standalone.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bundle="$root/target/gpu-bundle"
offline=$([ "${MAVEN_OFFLINE:-1}" = 1 ] && echo -o || true)
console_version="${JUNIT_PLATFORM_VERSION:-1.10.2}"

rm -rf "$bundle"
mkdir -p "$bundle/lib"

# One reactor run, so that modules resolve each other from their target/ folders (nothing is installed).
echo "gpu-bundle: building jars and copying runtime + test dependencies (mvn $offline package -DskipTests)"
mvn $offline -q -B package dependency:copy-dependencies -DskipTests -DincludeScope=test -DexcludeGroupIds=dev.kiln \
    -DoutputDirectory="$bundle/lib"
mvn $offline -q -B dependency:copy \
    -Dartifact="org.junit.platform:junit-platform-console-standalone:$console_version" \
    -DoutputDirectory="$bundle/lib"

# The project's own jars (main code only; tests travel as classes below).
for jar in */target/*.jar; do
  case "$jar" in *-tests.jar|*-sources.jar|*-javadoc.jar) continue ;; esac
  cp "$jar" "$bundle/lib/"
done
cp engine-core/target/engine-core-*-tests.jar "$bundle/lib/"   # the oracle-parity suites, run there on CUDA
cp -r engine-cuda/target/test-classes "$bundle/test-classes"
cp scripts/gpu-check.sh scripts/torch_gpu_bench.py "$bundle/"

# The oracle cases travel too, except the 113 MB ResNet50 pair, which would not fit the 64 MiB a device call carries.
shared="${KILN_SHARED_DIR:-$root/../shared}"
if [ -d "$shared/oracle/cases" ]; then
  mkdir -p "$bundle/oracle"
  for f in "$shared"/oracle/cases/*.safetensors; do
    case "$(basename "$f")" in resnet50_seed0*) continue ;; esac
    cp "$f" "$bundle/oracle/"
  done
fi

if [ "${KILN_JLINK:-0}" = 1 ]; then
  echo "gpu-bundle: making a Java runtime with jlink"
  jlink --add-modules java.base,java.logging,java.xml,java.management,jdk.unsupported \
        --strip-debug --no-header-files --no-man-pages --compress=2 --output "$bundle/jre"
fi

echo "gpu-bundle: $(du -sh "$bundle" | cut -f1) in $bundle"
