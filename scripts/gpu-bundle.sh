#!/usr/bin/env bash
# Prepares everything scripts/gpu-check.sh needs on a GPU machine that has neither Maven, nor a network, nor Java
# (the lent H200 has none), within the 64 MiB that a device call carries:
#   target/gpu-bundle/lib/           the jars the check runs: engine-core (and its tests), engine-cuda, bench, and
#                                    their runtime and test dependencies (not the trainer's plotting or HDF5 ones)
#   target/gpu-bundle/test-classes/  engine-cuda's compiled tests
#   target/gpu-bundle/jre.tar.xz     a small Java runtime made with jlink, compressed (skip with KILN_JLINK=0);
#                                    gpu-check.sh unpacks it into /tmp
#   target/gpu-bundle/oracle/        the oracle cases, except the 113 MB ResNet50 pair
#   target/gpu-bundle/gpu-check.sh   a copy of the check script
# Run from anywhere inside the repository. Uses Maven offline (-o) unless MAVEN_OFFLINE=0; the first run on a
# fresh machine needs MAVEN_OFFLINE=0 to download junit-platform-console-standalone.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bundle="$root/target/gpu-bundle"
offline=$([ "${MAVEN_OFFLINE:-1}" = 1 ] && echo -o || true)
console_version="${JUNIT_PLATFORM_VERSION:-1.10.2}"
limit_mib=60  # a device call carries 64 MiB, the working tree included

rm -rf "$bundle"
mkdir -p "$bundle/lib"

# One reactor run, so that modules resolve each other from their target/ folders (nothing is installed). Only the
# modules the check runs copy their dependencies.
echo "gpu-bundle: building jars and copying runtime + test dependencies (mvn $offline package -DskipTests)"
mvn $offline -q -B package -DskipTests
mvn $offline -q -B dependency:copy-dependencies -pl engine-core,engine-cuda,bench -DincludeScope=test \
    -DexcludeGroupIds=dev.kiln,org.junit.jupiter,org.junit.platform,org.opentest4j,org.apiguardian \
    -DoutputDirectory="$bundle/lib"
# JUnit, whole, in the console launcher's jar.
mvn $offline -q -B dependency:copy \
    -Dartifact="org.junit.platform:junit-platform-console-standalone:$console_version" \
    -DoutputDirectory="$bundle/lib"

# The project's own jars (main code only, except engine-core's test suites, which run there on CUDA).
for module in engine-core engine-cuda bench; do cp "$module"/target/"$module"-*[0-9T].jar "$bundle/lib/"; done
cp engine-core/target/engine-core-*-tests.jar "$bundle/lib/"
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

if [ "${KILN_JLINK:-1}" = 1 ]; then
  echo "gpu-bundle: making a Java runtime with jlink"
  jre="$(mktemp -d)"
  # Uncompressed inside, so that xz does the compressing: 13 MB against 20 MB with jlink's own zip.
  jlink --add-modules java.base,java.logging,java.xml,java.management,jdk.unsupported,jdk.zipfs \
        --strip-debug --no-header-files --no-man-pages --compress=0 --output "$jre/jre"
  tar -C "$jre" -cf - jre | xz -T0 -6 > "$bundle/jre.tar.xz"
  rm -rf "$jre"
fi

size_mib=$(( $(du -sk "$bundle" | cut -f1) / 1024 ))
echo "gpu-bundle: ${size_mib} MiB in $bundle"
if [ "$size_mib" -gt "$limit_mib" ]; then
  echo "gpu-bundle: more than the ${limit_mib} MiB a device call can carry" >&2
  exit 1
fi
