#!/usr/bin/env bash
# Run HERE (a dev machine with Node, npm and apt), in the repository root:  bash scripts/device/prepare.sh
# Builds .device/ (git-ignored, about 35 MB, under the device's 64 MiB limit), which travels to the
# GPU machine with carry: [".device"] and is run there by .device/run.sh. See scripts/device/README.md.
set -euo pipefail
D=.device
WEBGPU_VERSION="${WEBGPU_VERSION:-0.6.2}"  # the version checked here (loads, finds no adapter without a GPU)
rm -rf "$D"
mkdir -p "$D/node_modules" "$D/models" "$D/gl"

# 1. Node.js itself (the GPU machine has none): this machine's binary, xz-compressed (99 MB → ~24 MB).
xz -6 -T2 -c "$(command -v node)" > "$D/node.xz"

# 2. Dawn for Node (npm package `webgpu`, MIT): only its linux-x64 dawn.node, xz-compressed (21 → ~5 MB).
(cd "$D" && npm pack "webgpu@${WEBGPU_VERSION}" --silent >/dev/null)
tar -xzf "$D"/webgpu-*.tgz -C "$D"
rm "$D"/webgpu-*.tgz
mv "$D/package" "$D/node_modules/webgpu"
find "$D/node_modules/webgpu/dist" -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
xz -6 -T2 "$D/node_modules/webgpu/dist/linux-x64/dawn.node"

# 3. The bench: scripts/device/webgpu-bench.ts with tfjs and the app's core, one CommonJS file.
npx esbuild scripts/device/webgpu-bench.ts --bundle --platform=node --target=node20 --format=cjs \
  --external:webgpu --outfile="$D/bench.cjs" --log-level=warning --log-override:empty-import-meta=silent

# 4. The shipped base the SePPO update starts from, and the script that runs there.
cp -r public/models/base "$D/models/base"
cp scripts/device/run.sh "$D/run.sh"

# 5. The Vulkan loader (the device README: the image may lack it; amd64 .debs, unpacked there).
mkdir -p /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
# shellcheck disable=SC2086
apt-get $o update >/dev/null
# shellcheck disable=SC2086
(cd "$D/gl" && apt-get $o download libvulkan1 >/dev/null)

git rev-parse HEAD > "$D/commit.txt"
du -sh "$D"
echo "ready: run(command='bash .device/run.sh', carry=['.device'], timeout_s=480)"
