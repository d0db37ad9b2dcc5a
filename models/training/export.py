#!/usr/bin/python3
"""Exports a training checkpoint as the app's model pack: model.onnx + model.json (sha256 filled).

    /usr/bin/python3 models/training/export.py models/training/runs/gpu/best.pt models/brain-extract
    /usr/bin/python3 models/training/export.py models/training/runs/lateral/best.pt models/brain-lateral

The checkpoint's task (train.py --task: brain or lateral) picks the card's labels and texts.

Run it with Debian's torch 1.13 (the TorchScript ONNX exporter, opset 17), wherever the
checkpoint was trained. Keeps the card's measured `metrics` if the folder already has a card for
the same weights; evaluate.py measures and writes them.
"""

import argparse
import hashlib
import io
import json
import os
import shutil
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "test", "tiny-model"))
from export_models import dumps  # noqa: E402  (Prettier-compatible JSON layout)
from unet import LateralNet, UNet3d, count_parameters  # noqa: E402

MAX_BYTES = 10 * 1024 * 1024
CARD_ORDER = [
    "schema", "id", "name", "version", "sha256", "task", "modality", "description", "intendedUse",
    "licence", "minAppVersion", "input", "output", "axisOrder", "orientation", "spacingMm",
    "normalisation", "patchSize", "overlap", "gaussianSigmaFraction", "mirrorAxes", "labels",
    "postprocess", "metrics", "training",
]


SUBJECT = (
    "the real ch2 T1 intensities were never shown to the network; the only adult head here is "
    "Colin27, so the evaluation image is the training subject's anatomy"
)
TASKS = {
    "brain": dict(
        id="brain-extract",
        name="Brain extraction (3-D U-Net trained on synthetic images)",
        outputs="Outputs background/brain.",
        intendedUse=(
            "Adult human T1-weighted MRI brain extraction (skull stripping) for research use; "
            "not for clinical diagnosis or treatment"
        ),
        # Left-right only: the network relies on up/down and front/back (brainstem cut).
        labels=[
            {"value": 0, "name": "background", "color": [0, 0, 0]},
            {"value": 1, "name": "brain", "color": [255, 170, 60], "snomed": "12738006"},
        ],
        postprocess=[{"label": 1, "largestComponent": True}],
    ),
    "lateral": dict(
        id="brain-lateral",
        name="Left and right cerebral hemispheres, cerebellum and brainstem (3-D U-Net trained on synthetic images)",
        outputs=(
            "Outputs the left and right cerebral hemispheres and the cerebellum with the brainstem "
            "(make_label_maps.LATERAL: the side of the nearest AAL region inside the ch2bet brain "
            "mask). Trained with left-right flips that keep the labels on the anatomy, so the sides "
            "come from the brain's own asymmetry, not from the array direction: a scan stored "
            "mirrored under an unchanged header gets its left hemisphere reported on the patient's "
            "right (the cohort report's wrong-side flag). Learnt from one brain's asymmetry "
            "(Colin27): a demonstration of the flip check, not a general hemisphere model."
        ),
        intendedUse=(
            "Research demonstration of the cohort left-right check on adult human T1-weighted MRI "
            "(Colin27-like brains); not for clinical diagnosis or treatment"
        ),
        labels=[
            {"value": 0, "name": "background", "color": [0, 0, 0]},
            {"value": 1, "name": "left cerebral hemisphere", "color": [220, 60, 60], "side": "left",
             "plausibleVolumeMl": [350, 950]},
            {"value": 2, "name": "right cerebral hemisphere", "color": [60, 110, 230], "side": "right",
             "plausibleVolumeMl": [350, 950]},
            {"value": 3, "name": "cerebellum and brainstem", "color": [240, 200, 60],
             "plausibleVolumeMl": [100, 320]},
        ],
        postprocess=[{"label": v, "largestComponent": True} for v in (1, 2, 3)],
    ),
}


def lateral_parts(model):
    if not isinstance(model, LateralNet):
        return ""
    return (f": a U-Net trunk of {count_parameters(model.trunk)} and a chirality part of "
            f"{count_parameters(model.chirality)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("pack_dir")
    ap.add_argument("--id", default=None, help="default: brain-extract or brain-lateral by task")
    ap.add_argument("--version", default="0.1.0")
    args = ap.parse_args()
    ck = torch.load(args.checkpoint, map_location="cpu")
    cfg = ck["config"]
    task = TASKS[cfg.get("task", "brain")]
    if cfg.get("task") == "lateral":
        model = LateralNet(base=cfg["base"], levels=cfg["levels"])
    else:
        model = UNet3d(base=cfg["base"], levels=cfg["levels"])
    model.load_state_dict(ck["ema"])
    model.eval()
    n = model.factor * 4
    buf = io.BytesIO()
    dyn = {0: "N", 2: "D", 3: "H", 4: "W"}
    torch.onnx.export(
        model, torch.zeros(1, 1, n, n, n), buf, opset_version=17, input_names=["image"],
        output_names=["logits"], dynamic_axes={"image": dyn, "logits": dyn},
        do_constant_folding=True,
    )
    data = buf.getvalue()
    if len(data) > MAX_BYTES:
        sys.exit(f"model.onnx is {len(data)} bytes, over {MAX_BYTES}")
    sha = hashlib.sha256(data).hexdigest()
    s = cfg["spacing"]
    rows = ck.get("rows", [])
    card = {
        "schema": "volseg-model-card/1",
        "id": args.id or task["id"],
        "name": task["name"],
        "version": args.version,
        "sha256": sha,
        "task": "segmentation",
        "modality": "MR",
        "description": (
            f"3-D U-Net ({cfg['levels']} levels, base {cfg['base']} channels, "
            f"{count_parameters(model)} parameters{lateral_parts(model)}) "
            f"at {s} mm, trained only on synthetic images generated from label maps "
            f"(SynthStrip-style recipe in models/training); " + (
                "the real ch2 T1 intensities were never shown to the network. " + task["outputs"]
                if cfg.get("task", "brain") == "brain" else SUBJECT + ". " + task["outputs"]
            )
        ),
        "intendedUse": task["intendedUse"],
        "licence": (
            "Weights: BSD-3-Clause. Training label maps derived from mricron-data "
            "(BSD-3-Clause, Copyright 2006-2010 Chris Rorden); see "
            f"models/{args.id or task['id']}/LICENCE.md"
        ),
        "minAppVersion": "0.1.0",
        "input": {"name": "image", "channels": 1},
        "output": {"name": "logits", "kind": "logits"},
        # Trained on arrays in RAS index order with tensor dims (D, H, W) = (i, j, k).
        "axisOrder": "ijk",
        "orientation": "RAS",
        "spacingMm": [s, s, s],
        "normalisation": {
            "kind": "percentile", "lower": 0.5, "upper": 99.5, "outMin": 0, "outMax": 1,
            "clip": False,
        },
        "patchSize": [cfg["size"]] * 3,
        "overlap": 0.25,
        "gaussianSigmaFraction": 0.125,
        # Left-right only: the brain network relies on up/down and front/back (brainstem cut); the
        # lateral one was trained with flips that keep the labels on the anatomy, so a mirrored
        # input's output mirrored back is the same labelling.
        "mirrorAxes": [0],
        "labels": task["labels"],
        "postprocess": task["postprocess"],
        "metrics": [],
    }
    os.makedirs(args.pack_dir, exist_ok=True)
    old_path = os.path.join(args.pack_dir, "model.json")
    if os.path.exists(old_path):
        with open(old_path) as f:
            old = json.load(f)
        if old.get("sha256") == sha:
            card["metrics"] = old.get("metrics", [])
    with open(os.path.join(args.pack_dir, "model.onnx"), "wb") as f:
        f.write(data)
    with open(old_path, "w") as f:
        f.write(dumps({k: card[k] for k in CARD_ORDER if k in card}) + "\n")
    # The loss/Dice curve goes next to the model.
    run_dir = os.path.dirname(os.path.abspath(args.checkpoint))
    for name in ("log.csv", "curve.png"):
        if os.path.exists(os.path.join(run_dir, name)):
            shutil.copyfile(os.path.join(run_dir, name), os.path.join(args.pack_dir, "training-" + name))
    last = rows[-1] if rows else None
    print(f"{args.pack_dir}: {len(data)} bytes, sha256 {sha}")
    if last:
        print(f"trained {last[0]} steps, {last[1]} s; validation Dice (synthetic) {ck.get('val_dice')}")


if __name__ == "__main__":
    main()
