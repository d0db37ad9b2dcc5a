#!/usr/bin/env bash
# WebGPU (onnxruntime-node, rewritten graph) ÷ PyTorch cuDNN on the same GPU, same run.
# Prepare on the dev machine:   npm run build && ../shared/tools/device/pack.sh onnx-proto @protobufjs/aspromise @protobufjs/base64 @protobufjs/codegen @protobufjs/eventemitter @protobufjs/fetch @protobufjs/float @protobufjs/inquire @protobufjs/path @protobufjs/pool @protobufjs/utf8
# Run on the GPU machine (device tool, carry [".device", "dist"]):
#   bash test/bench/gpu/webgpu-vs-torch.sh
set -euo pipefail
source .device/setup.sh
for patch in 64 96; do
  t=$(python3 test/bench/gpu/torch_baseline.py --arch tiny-unet --patch "$patch")
  w=$(node test/bench/gpu/webgpu-tiles.mjs test/tiny-model/packs/tiny-unet "$patch")
  echo "torch:  $t"
  echo "webgpu: $w"
  python3 - "$t" "$w" <<'PY'
import json, sys
t = json.loads(sys.argv[1]); w = json.loads(sys.argv[2])
g = next((r for r in w["results"] if r["provider"] == "webgpu"), {})
if "ms" in g:
    print(f"patch {t['patch']}: WebGPU {g['ms']:.2f} ms / torch fp16 {t['fp16_ms']:.2f} ms = {g['ms'] / t['fp16_ms']:.1f}x"
          f" (torch fp32 {t['fp32_ms']:.2f} ms: {g['ms'] / t['fp32_ms']:.1f}x) on {t['device']}")
else:
    print(f"patch {t['patch']}: WebGPU failed: {g.get('error')}")
PY
done
