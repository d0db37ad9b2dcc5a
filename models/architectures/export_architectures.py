#!/usr/bin/python3
"""Writes the architecture demo packs under models/architectures/<id>/ (see README.md).

Run with Debian's python3 (torch 1.13, onnx 1.12):
    /usr/bin/python3 models/architectures/export_architectures.py
The outputs are committed, so CI never needs torch. Weights are random (fixed seeds); the packs
exist to show that the U-Net family runs through the engine on every provider, not to segment
anything. Besides each pack, reference.json records PyTorch's outputs on deterministic inputs
(mulberry32 noise, reproduced bit for bit by test/integration/architectures.test.ts) so the test
can check onnxruntime against PyTorch without torch.
"""

import hashlib
import io
import json
import os
import sys

import numpy as np
import onnx
import torch

sys.dont_write_bytecode = True  # no __pycache__ next to nets.py / export_models.py
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "test", "tiny-model"))

import nets  # noqa: E402
from export_models import OPSET, dumps, spatial  # noqa: E402

MAX_BYTES = 2 * 1024 * 1024
NAMES = ("D", "H", "W")

CARD_ORDER = [
    "schema", "id", "name", "version", "sha256", "task", "modality", "description",
    "intendedUse", "licence", "minAppVersion", "input", "output", "axisOrder", "orientation",
    "spacingMm", "normalisation", "patchSize", "overlap", "gaussianSigmaFraction",
    "mirrorAxes", "labels", "postprocess", "metrics",
]

COMMON_CARD = {
    "schema": "volseg-model-card/1",
    "version": "0.1.0",
    "task": "segmentation",
    "modality": "MR",
    "intendedUse": "Architecture demo with random weights; not for clinical or research use",
    "licence": "CC0-1.0 (random weights)",
    "minAppVersion": "0.1.0",
    "input": {"name": "image", "channels": 1},
    "output": {"name": "logits", "kind": "logits"},
    "axisOrder": "kji",
    "orientation": "as-stored",
    "spacingMm": None,
    "normalisation": {"kind": "zscore", "foregroundOnly": False},
    "patchSize": [32, 32, 32],
    "overlap": 0.5,
    "gaussianSigmaFraction": 0.125,
    "mirrorAxes": [0, 1, 2],
    "labels": [
        {"value": 0, "name": "background", "color": [0, 0, 0]},
        {"value": 1, "name": "a", "color": [230, 25, 75]},
        {"value": 2, "name": "b", "color": [60, 180, 75]},
    ],
    "postprocess": [],
    "metrics": [],
}

# Deterministic inputs for reference.json: (shape [N, 1, D, H, W], mulberry32 seed). Non-cubic
# and batch-2 cases check the dynamic axes; the transformer also gets 64^3 (512 tokens, not 64).
REFERENCE_CASES = [([1, 1, 32, 32, 32], 1), ([2, 1, 16, 24, 40], 2), ([1, 1, 32, 48, 64], 3)]
EXTRA_CASES = {"transunet": [([1, 1, 64, 64, 64], 4)]}
SAMPLES = 8


def randomise(model, seed):
    """Random norm scales/shifts (InstanceNorm, LayerNorm) and biases: the defaults (ones/zeros)
    would make outputs trivially symmetric."""
    g = torch.Generator().manual_seed(seed)
    modules = dict(model.named_modules())
    with torch.no_grad():
        for name, p in model.named_parameters():
            owner = modules[name.rsplit(".", 1)[0]]
            if isinstance(owner, (torch.nn.InstanceNorm3d, torch.nn.LayerNorm)):
                if name.endswith(".weight"):
                    p.copy_(0.5 + torch.rand(p.shape, generator=g))
                else:
                    p.copy_(torch.rand(p.shape, generator=g) - 0.5)
            elif name.endswith(".bias"):
                p.copy_((torch.rand(p.shape, generator=g) - 0.5) * 0.4)


def mulberry32(n, seed):
    """n uniform values in [-1, 1) as float32, bit-identical to the test's `seeded(n, seed)`."""
    m = np.uint64(0xFFFFFFFF)
    s = (np.uint64(seed) + np.arange(1, n + 1, dtype=np.uint64) * np.uint64(0x6D2B79F5)) & m
    t = ((s ^ (s >> np.uint64(15))) * (s | np.uint64(1))) & m
    t = t ^ ((t + (((t ^ (t >> np.uint64(7))) * (t | np.uint64(61))) & m)) & m)
    r = (t ^ (t >> np.uint64(14))) & m
    return (r.astype(np.float64) / 2**32 * 2 - 1).astype(np.float32)


def export(model, output_names):
    axes = {"image": spatial(NAMES)}
    axes.update({name: spatial(NAMES) for name in output_names})
    buf = io.BytesIO()
    torch.onnx.export(
        model,
        torch.zeros(1, 1, 32, 32, 32),
        buf,
        opset_version=OPSET,
        input_names=["image"],
        output_names=output_names,
        dynamic_axes=axes,
        do_constant_folding=True,
    )
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()), full_check=True)
    return buf.getvalue()


def num(v):
    """A float for the JSON: 7 significant digits, no exponent (Prettier keeps it as written)."""
    text = np.format_float_positional(np.float64(v), precision=7, unique=False, fractional=False)
    return float(text.rstrip("."))


def reference(pack_id, model, output_names):
    cases = []
    for shape, seed in REFERENCE_CASES + EXTRA_CASES.get(pack_id, []):
        x = torch.from_numpy(mulberry32(int(np.prod(shape)), seed).reshape(shape))
        with torch.no_grad():
            ys = model(x)
        ys = ys if isinstance(ys, tuple) else (ys,)
        outputs = {}
        for name, y in zip(output_names, ys):
            flat = y.double().flatten()
            size = flat.numel()
            picks = [((2 * j + 1) * size) // (2 * SAMPLES) for j in range(SAMPLES)]
            outputs[name] = {
                "dims": list(y.shape),
                "mean": num(flat.mean()),
                "meanAbs": num(flat.abs().mean()),
                "samples": {str(i): num(flat[i]) for i in picks},
            }
        cases.append({"dims": shape, "seed": seed, "outputs": outputs})
    return cases


def write_pack(pack_id, onnx_bytes, card):
    if len(onnx_bytes) > MAX_BYTES:
        sys.exit(f"{pack_id}: model.onnx is {len(onnx_bytes)} bytes, over {MAX_BYTES}")
    folder = os.path.join(HERE, pack_id)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(onnx_bytes)
    full = dict(COMMON_CARD, id=pack_id, sha256=hashlib.sha256(onnx_bytes).hexdigest(), **card)
    assert set(CARD_ORDER) == set(full), set(CARD_ORDER) ^ set(full)
    with open(os.path.join(folder, "model.json"), "w") as f:
        f.write(dumps({k: full[k] for k in CARD_ORDER}) + "\n")


PACKS = [
    (
        "unet3d",
        nets.UNet3D,
        ["logits"],
        "3-D U-Net (architecture demo)",
        "3-D U-Net (Cicek et al. 2016): 4 levels, 8/16/32/64 channels, max-pool down, "
        "ConvTranspose up, concatenated skips. Random weights.",
    ),
    (
        "attention-unet",
        nets.AttentionUNet,
        ["logits"],
        "Attention U-Net (architecture demo)",
        "Attention U-Net (Oktay et al. 2018): the 3-D U-Net with additive attention gates "
        "(sigmoid coefficients, trilinear up-sampling) on the 3 skips. Random weights.",
    ),
    (
        "unet-plus-plus",
        nets.UNetPlusPlus,
        ["logits_ds1", "logits_ds2", "logits"],
        "U-Net++ (architecture demo)",
        "U-Net++ (Zhou et al. 2018): nested dense skip pathways, depth 4, 8/16/32/64 channels; "
        "deep-supervision outputs logits_ds1, logits_ds2, then logits. Random weights.",
    ),
    (
        "sd-unet",
        nets.SDUNet,
        ["logits"],
        "SD-UNet (architecture demo)",
        "SD-UNet-style (Gadosey et al. 2020): a 4-level U-Net, 16/32/64/128 channels, of "
        "depthwise-separable convolutions. Random weights.",
    ),
    (
        "transunet",
        nets.TransUNet,
        ["logits"],
        "TransUNet-style hybrid (architecture demo)",
        "TransUNet-style (Chen et al. 2021): CNN encoder to 1/8, 2 transformer blocks "
        "(64-dim tokens, 4 heads) on the bottleneck, cascaded up-sampling decoder. Random weights.",
    ),
]


def main():
    torch.set_num_threads(1)  # the same summation order, run to run
    refs = {}
    for seed, (pack_id, cls, outputs, name, description) in enumerate(PACKS):
        torch.manual_seed(seed)
        model = cls()
        randomise(model, 100 + seed)
        model.eval()
        for m in model.modules():
            if isinstance(m, nets.DepthwiseConv3d):
                shape = (2, m.c, 8, 12, 16)
                x = torch.from_numpy(mulberry32(int(np.prod(shape)), 7).reshape(shape))
                with torch.no_grad():
                    diff = (m(x) - m.reference(x)).abs().max().item()
                assert diff < 1e-5, f"{pack_id}: depthwise conv as grouped Conv2d differs by {diff}"
        onnx_bytes = export(model, outputs)
        params = sum(p.numel() for p in model.parameters())
        write_pack(pack_id, onnx_bytes, {"name": name, "description": description})
        cases = reference(pack_id, model, outputs)
        refs[pack_id] = {"params": params, "bytes": len(onnx_bytes), "cases": cases}
        print(f"{pack_id}: {params} parameters, {len(onnx_bytes)} bytes")
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        f.write(dumps(refs) + "\n")


if __name__ == "__main__":
    main()
