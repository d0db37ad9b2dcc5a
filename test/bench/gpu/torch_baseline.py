#!/usr/bin/env python3
"""PyTorch cuDNN baseline for `webgpu-vs-torch.sh`: per-patch time of the same architecture the
ONNX pack holds, on the same GPU, fp32 and fp16 (autocast), batch 1.

Usage: python3 torch_baseline.py --arch tiny-unet --patch 64 [--reps 50]
Prints one JSON line: {"arch", "patch", "fp32_ms", "fp16_ms", "device"}.
Architectures come from test/tiny-model/export_models.py (TinyUNet), so the graph timed here is
the graph the engine runs; weights are random (speed does not depend on them).
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tiny-model"))
try:
    import onnx  # noqa: F401  (export_models imports it; the GPU machine may not have it)
except ImportError:
    import types

    sys.modules["onnx"] = types.ModuleType("onnx")
from export_models import TinyUNet  # noqa: E402


def timed(model, x, reps, fp16):
    torch.backends.cudnn.benchmark = True
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16, enabled=fp16):
        for _ in range(5):
            model(x)
        torch.cuda.synchronize()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            model(x)
            torch.cuda.synchronize()
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="tiny-unet")
    ap.add_argument("--patch", type=int, default=64)
    ap.add_argument("--reps", type=int, default=50)
    a = ap.parse_args()
    if a.arch != "tiny-unet":
        sys.exit(f"unknown arch {a.arch}")
    model = TinyUNet().cuda().eval()
    x = torch.randn(1, 1, a.patch, a.patch, a.patch, device="cuda")
    out = {
        "arch": a.arch,
        "patch": a.patch,
        "fp32_ms": timed(model, x, a.reps, False),
        "fp16_ms": timed(model, x, a.reps, True),
        "device": torch.cuda.get_device_name(0),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
