#!/usr/bin/python3
"""Writes the tiny test model packs under test/tiny-model/packs/ (see README.md).

Run with Debian's python3 (torch 1.13, onnx 1.12):  /usr/bin/python3 test/tiny-model/export_models.py
The outputs are committed, so CI never needs torch. Weights are random (torch.manual_seed(0)); the
packs exist to exercise the engine (tiling, deep-supervision outputs, graph rewrites), not to
segment anything.
"""

import hashlib
import io
import json
import os
import sys

import onnx
import torch
from torch import nn

OPSET = 17
HERE = os.path.dirname(os.path.abspath(__file__))
PACKS = os.path.join(HERE, "packs")
MAX_BYTES = 300 * 1024

COMMON_CARD = {
    "schema": "volseg-model-card/1",
    "version": "0.1.0",
    "task": "segmentation",
    "intendedUse": "Test model for the VolSeg engine; not for clinical or research use",
    "licence": "CC0-1.0 (test model, random weights)",
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
    "postprocess": [],
    "metrics": [],
}

UNET_LABELS = [
    {"value": 0, "name": "background", "color": [0, 0, 0]},
    {"value": 1, "name": "a", "color": [230, 25, 75]},
    {"value": 2, "name": "b", "color": [60, 180, 75]},
]


class Stage(nn.Sequential):
    """Two (Conv3d 3x3x3 pad 1, InstanceNorm3d affine, LeakyReLU 0.01) blocks, nnU-Net style."""

    def __init__(self, cin, cout):
        layers = []
        for c in (cin, cout):
            layers += [
                nn.Conv3d(c, cout, 3, padding=1),
                nn.InstanceNorm3d(cout, affine=True),
                nn.LeakyReLU(0.01),
            ]
        super().__init__(*layers)


class TinyUNet(nn.Module):
    """3-D U-Net, 2 down-sampling levels, channels 4/8/16; optional deep-supervision head."""

    def __init__(self, classes=3, deep_supervision=False):
        super().__init__()
        self.enc0 = Stage(1, 4)
        self.enc1 = Stage(4, 8)
        self.bottom = Stage(8, 16)
        self.pool = nn.MaxPool3d(2)
        self.up1 = nn.ConvTranspose3d(16, 8, 2, stride=2)
        self.dec1 = Stage(16, 8)
        self.up0 = nn.ConvTranspose3d(8, 4, 2, stride=2)
        self.dec0 = Stage(8, 4)
        self.head = nn.Conv3d(4, classes, 1)
        # Registered last, so the shared layers get the same random weights in both packs.
        self.ds_head = nn.Conv3d(8, classes, 1) if deep_supervision else None

    def forward(self, x):
        s0 = self.enc0(x)
        s1 = self.enc1(self.pool(s0))
        b = self.bottom(self.pool(s1))
        d1 = self.dec1(torch.cat([self.up1(b), s1], 1))
        d0 = self.dec0(torch.cat([self.up0(d1), s0], 1))
        out = self.head(d0)
        if self.ds_head is not None:
            return self.ds_head(d1), out
        return out


def randomise(model):
    """Random InstanceNorm affine parameters and biases: default ones/zeros would make tests
    trivially symmetric."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if isinstance(dict(model.named_modules())[name.rsplit(".", 1)[0]], nn.InstanceNorm3d):
                if name.endswith(".weight"):
                    p.copy_(0.5 + torch.rand(p.shape, generator=g))
                else:
                    p.copy_(torch.rand(p.shape, generator=g) - 0.5)
            elif name.endswith(".bias"):
                p.copy_((torch.rand(p.shape, generator=g) - 0.5) * 0.4)


def spatial(names):
    return {0: "N", 2: names[0], 3: names[1], 4: names[2]}


def export(model, output_names, dynamic_axes):
    model.eval()
    buf = io.BytesIO()
    torch.onnx.export(
        model,
        torch.zeros(1, 1, 32, 32, 32),
        buf,
        opset_version=OPSET,
        input_names=["image"],
        output_names=output_names,
        dynamic_axes=dynamic_axes,
        do_constant_folding=True,
    )
    m = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(m, full_check=True)
    return buf.getvalue()


def dumps(value, indent=0, col=0):
    """JSON laid out as Prettier lays it out (the top object expanded, anything else inline when it
    fits in 100 columns from `col`), so `prettier --check` passes on freshly generated cards."""
    flat = json.dumps(value, separators=(", ", ": "))
    if isinstance(value, dict) and value:
        flat = "{ " + flat[1:-1] + " }"
    if not isinstance(value, (dict, list)) or not value or (indent > 0 and col + len(flat) < 100):
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            key = json.dumps(k) + ": "
            items.append(pad + key + dumps(v, indent + 2, indent + 2 + len(key)))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + dumps(v, indent + 2, indent + 2) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def write_pack(pack_id, onnx_bytes, card):
    if len(onnx_bytes) > MAX_BYTES:
        sys.exit(f"{pack_id}: model.onnx is {len(onnx_bytes)} bytes, over {MAX_BYTES}")
    folder = os.path.join(PACKS, pack_id)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "model.onnx"), "wb") as f:
        f.write(onnx_bytes)
    sha = hashlib.sha256(onnx_bytes).hexdigest()
    full = {"schema": COMMON_CARD["schema"], "id": pack_id}
    full.update({k: v for k, v in COMMON_CARD.items() if k != "schema"})
    full.update(card)
    full["sha256"] = sha
    order = [
        "schema", "id", "name", "version", "sha256", "task", "modality", "description",
        "intendedUse", "licence", "minAppVersion", "input", "output", "axisOrder", "orientation",
        "spacingMm", "normalisation", "patchSize", "overlap", "gaussianSigmaFraction",
        "mirrorAxes", "labels", "postprocess", "metrics",
    ]
    assert set(order) == set(full), set(order) ^ set(full)
    with open(os.path.join(folder, "model.json"), "w") as f:
        f.write(dumps({k: full[k] for k in order}) + "\n")
    print(f"{pack_id}: {len(onnx_bytes)} bytes, sha256 {sha}")


def main():
    names = ("D", "H", "W")

    torch.manual_seed(0)
    unet = TinyUNet()
    randomise(unet)
    write_pack(
        "tiny-unet",
        export(unet, ["logits"], {"image": spatial(names), "logits": spatial(names)}),
        {
            "name": "Tiny 3-D U-Net (test)",
            "modality": "MR",
            "description": "Random-weight 3-D U-Net (2 levels, 4/8/16 channels) for engine tests.",
            "labels": UNET_LABELS,
        },
    )

    torch.manual_seed(0)
    unet_ds = TinyUNet(deep_supervision=True)
    randomise(unet_ds)
    write_pack(
        "tiny-unet-ds",
        export(
            unet_ds,
            ["logits_ds", "logits"],
            {
                "image": spatial(names),
                "logits_ds": spatial(("Dh", "Hh", "Wh")),
                "logits": spatial(names),
            },
        ),
        {
            "name": "Tiny 3-D U-Net with deep supervision (test)",
            "modality": "MR",
            "description": "tiny-unet with a half-resolution deep-supervision output first "
            "(logits_ds), then the full-resolution logits.",
            "labels": UNET_LABELS,
        },
    )

    conv = nn.Conv3d(1, 2, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([-10.0, 10.0]).reshape(2, 1, 1, 1, 1))
        conv.bias.zero_()
    write_pack(
        "threshold",
        export(conv, ["logits"], {"image": spatial(names), "logits": spatial(names)}),
        {
            "name": "Threshold at the mean (test)",
            "modality": "MR",
            "description": "1x1x1 convolution: label 1 exactly where the z-scored input is > 0.",
            "orientation": "RAS",
            "labels": [
                {"value": 0, "name": "background", "color": [0, 0, 0]},
                {"value": 1, "name": "above-mean", "color": [255, 200, 0]},
            ],
        },
    )


if __name__ == "__main__":
    main()
