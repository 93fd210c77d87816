#!/usr/bin/env bash
# Run THERE (the GPU machine), from the repository root, after scripts/device/prepare.sh here:
#   run(command="bash .device/run.sh", carry=[".device"], timeout_s=480)
# Unpacks Node, Dawn and the Vulkan loader, then runs the bench (.device/bench.cjs). Everything
# it reports lands in $OUT: webgpu-bench.json, log.txt, nvidia-smi.txt.
set -uo pipefail
D=.device
OUT="${OUT:-/tmp/out}"
mkdir -p "$OUT"
for f in "$D"/gl/*.deb; do dpkg -x "$f" /; done
ldconfig
if [ -e /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ]; then
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
xz -dc "$D/node.xz" > /tmp/node && chmod +x /tmp/node
xz -dkf "$D/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
{ echo "commit $(cat "$D/commit.txt" 2>/dev/null)"; /tmp/node --version; uname -a; ldconfig -p | grep -i vulkan; } > "$OUT/log.txt" 2>&1
nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total --format=csv > "$OUT/nvidia-smi.txt" 2>&1
# the bench itself: a few minutes at most; the SePPO update runs 5 times (1 warm-up, 3 timed, 1 profiled)
OUT="$OUT" MODEL_DIR="$D/models/base" timeout 420 /tmp/node "$D/bench.cjs" >> "$OUT/log.txt" 2>&1
rc=$?
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv >> "$OUT/nvidia-smi.txt" 2>&1
tail -n 60 "$OUT/log.txt"
exit $rc
