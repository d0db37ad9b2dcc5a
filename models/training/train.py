#!/usr/bin/env python3
"""Trains the brain-extraction U-Net on synthetic images (synth.py) and saves checkpoints.

    # the real run (GPU; see README.md "Training the bundled model"):
    python3 models/training/train.py --preset gpu --minutes 20 --out runs/gpu
    # CPU smoke / CPU model:
    /usr/bin/python3 models/training/train.py --preset cpu --minutes 30 --out runs/cpu
    # the lateralised model (left/right cerebral hemisphere, cerebellum and brainstem):
    /usr/bin/python3 models/training/train.py --preset cpu-lateral --minutes 60 --out runs/lateral

`--task lateral` trains unet.LateralNet on the label map's `lateral` target
(make_label_maps.LATERAL) with the milder geometry of synth.LATERAL_GEOMETRY: each step, the
trunk on one view against the array-side target (the two hemispheres swapped where the view was
flipped) and the chirality part on `--chirality-batch` brain-centred views against whether each
was flipped; validation scores the whole model (its mixed output) against the anatomy's labels.
Loss and Dice are the mean over the foreground classes. `--part trunk|chirality` trains one part.

Writes into --out: `last.pt`, `best.pt` (exponential moving average of the weights, chosen on
*synthetic* validation images drawn with a fixed seed; the evaluation volumes are never used),
`log.csv` (step, seconds, lr, loss, train Dice, validation Dice) and `curve.png` (loss in red,
train Dice in blue, validation Dice in green). Export with export.py (ONNX needs no GPU).
Fixed seeds: the same command on the same device and PyTorch version repeats the run.
"""

import argparse
import copy
import csv
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from png import line_plot, write_png  # noqa: E402
from synth import CHIRALITY_VIEWS, LATERAL_GEOMETRY, Generator, Options  # noqa: E402
from unet import LateralNet, UNet3d, count_parameters  # noqa: E402

PRESETS = {
    # The probe: 4 levels, base 16 (1.3 M parameters), 128^3 patches, batch 4, bf16.
    # 1.5 mm voxels: 128^3 covers 192 mm (a whole head), and ch2 runs as 2 tiles on a 2-core
    # CPU well inside the 20 s budget (1 mm would need 8 tiles).
    "gpu": dict(spacing=1.5, size=128, base=16, levels=4, batch=4, lr=2e-3, val_every=200),
    # What a 2-core CPU can afford: 3 mm voxels, 64^3 (still a whole head), base 8.
    "cpu": dict(spacing=3.0, size=64, base=8, levels=4, batch=2, lr=2e-3, val_every=100),
    # CI smoke test: a few steps end to end.
    "smoke": dict(spacing=3.0, size=32, base=4, levels=3, batch=1, lr=1e-3, val_every=2),
    # The lateralised model on a 2-core CPU: the cpu geometry, batch 1, usually started from the
    # bundled brain-extraction weights (--init-onnx models/brain-extract/model.onnx).
    "cpu-lateral": dict(spacing=3.0, size=64, base=8, levels=4, batch=1, lr=1e-3, val_every=50,
                        task="lateral", chirality_batch=8),
}
TASKS = {"brain": dict(classes=2), "lateral": dict(classes=4)}


def dice_loss(logits, target, present_only=False):
    """1 - soft Dice, averaged over the foreground classes (one class for the brain task).
    `present_only` (the lateral task): per view, only the classes its target holds, so a view
    without the cerebellum does not teach the network to avoid the class (cross-entropy still
    punishes false positives there)."""
    p = torch.softmax(logits.float(), 1)
    losses = []
    for c in range(1, logits.shape[1]):
        t = (target == c).float()
        inter = (p[:, c] * t).sum(dim=(1, 2, 3))
        tsum = t.sum(dim=(1, 2, 3))
        denom = p[:, c].sum(dim=(1, 2, 3)) + tsum
        ratio = (2 * inter + 1) / (denom + 1)
        if not present_only:
            losses.append(1 - ratio.mean())
        elif (tsum > 0).any():
            losses.append(1 - ratio[tsum > 0].mean())
    return sum(losses) / len(losses) if losses else p.sum() * 0


def hard_dice(logits, target):
    """Dice of the argmax, averaged over the foreground classes present in target or prediction
    (0 when none is: a view without brain, as the brain task always scored it)."""
    pred = logits.argmax(1)
    scores = []
    for c in range(1, logits.shape[1]):
        a, t = pred == c, target == c
        total = a.sum().item() + t.sum().item()
        if total:
            scores.append(2 * (a & t).sum().item() / total)
    return float(np.mean(scores)) if scores else 0.0


def load_onnx_weights(model, path):
    """Copies the initializers of an exported model.onnx (export.py keeps the parameter names)
    into `model` where name and shape agree; returns the names copied."""
    import onnx
    from onnx import numpy_helper

    state = model.state_dict()
    copied = []
    for init in onnx.load(path).graph.initializer:
        if init.name in state and tuple(init.dims) == tuple(state[init.name].shape):
            state[init.name] = torch.from_numpy(numpy_helper.to_array(init).copy())
            copied.append(init.name)
    model.load_state_dict(state)
    return copied


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=PRESETS, default="gpu")
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=None, help="stop after this much training time")
    ap.add_argument("--steps", type=int, default=None, help="stop after this many steps")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--val-samples", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for torch")
    ap.add_argument("--fov-cut", type=float, default=0.0, help="share of samples cut by a field-of-view edge")
    ap.add_argument("--labelmap", default=os.path.join(HERE, "data", "labelmap.npz"))
    ap.add_argument("--task", choices=TASKS, default=None, help="brain (default) or lateral; presets set it")
    ap.add_argument("--init-onnx", default=None,
                    help="start from an exported model.onnx's weights where names and shapes agree "
                    "(the lateral task: into its trunk)")
    ap.add_argument("--reinit", default=None,
                    help="comma-separated module names (e.g. trunk.up.2,trunk.head) drawn afresh after "
                    "--init/--init-onnx (seeded by --seed)")
    ap.add_argument("--part", choices=["both", "trunk", "chirality"], default="both",
                    help="lateral task: which part to train")
    ap.add_argument("--chirality-batch", type=int, default=None, help="lateral task: chirality views per step")
    ap.add_argument("--resume", default=None, help="continue from a last.pt")
    ap.add_argument(
        "--init", default=None,
        help="start from a checkpoint's weights (model and average) with a fresh schedule",
    )
    ap.add_argument(
        "--session-minutes", type=float, default=None,
        help="stop this process after this many wall-clock minutes (checkpoint saved); "
        "continue with --resume: the schedule follows --minutes/--steps across sessions",
    )
    for k, v in PRESETS["gpu"].items():
        ap.add_argument("--" + k.replace("_", "-"), type=type(v), default=None)
    args = ap.parse_args()
    cfg = dict(PRESETS[args.preset])
    for k in cfg:
        if k != "task" and getattr(args, k) is not None:
            cfg[k] = getattr(args, k)
    cfg["task"] = args.task or cfg.get("task", "brain")
    cfg.update(TASKS[cfg["task"]])
    if cfg["task"] == "lateral":
        cfg["chirality_batch"] = args.chirality_batch or cfg.get("chirality_batch", 4)
    if args.minutes is None and args.steps is None:
        ap.error("give --minutes or --steps")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True

    maps = np.load(args.labelmap)
    labels = maps["labels"]
    lateral = cfg["task"] == "lateral"
    if lateral and "lateral" not in maps:
        sys.exit(f"{args.labelmap} has no lateral map: rerun make_label_maps.py")
    targets = maps["lateral"] if lateral else None
    geometry = LATERAL_GEOMETRY if lateral else {}
    gen = Generator(labels, cfg["spacing"], cfg["size"], dev, seed=args.seed + 1,
                    options=Options(p_fov_cut=args.fov_cut, **geometry), targets_np=targets)
    # Validation: fixed synthetic samples from their own seed, generated once.
    val_gen = Generator(labels, cfg["spacing"], cfg["size"], dev, seed=10_000 + args.seed,
                        options=Options(**geometry), targets_np=targets)
    val = [val_gen.sample() for _ in range(args.val_samples)]
    if lateral:
        chir_opts = Options(**{**geometry, **CHIRALITY_VIEWS})
        chir_gen = Generator(labels, cfg["spacing"], cfg["size"], dev, seed=args.seed + 2,
                             options=chir_opts, targets_np=targets)
        chir_val_gen = Generator(labels, cfg["spacing"], cfg["size"], dev, seed=20_000 + args.seed,
                                 options=chir_opts, targets_np=targets)
        chir_val = [views(chir_val_gen, 1) for _ in range(4 * args.val_samples)]
        model = LateralNet(base=cfg["base"], levels=cfg["levels"]).to(dev)
    else:
        model = UNet3d(base=cfg["base"], levels=cfg["levels"], classes=cfg["classes"]).to(dev)
    ema = copy.deepcopy(model).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=1e-4)
    step, elapsed, best = 0, 0.0, -1.0
    rows = []
    if args.resume:
        ck = torch.load(args.resume, map_location=dev)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        step, elapsed, best, rows = ck["step"], ck["elapsed"], ck["best"], ck["rows"]
    if args.init:
        ck = torch.load(args.init, map_location=dev)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
    if args.init_onnx:
        copied = load_onnx_weights(model.trunk if lateral else model, args.init_onnx)
        ema.load_state_dict(model.state_dict())
        print(f"{len(copied)} tensors from {args.init_onnx}", flush=True)
    if args.reinit:
        modules = dict(model.named_modules())
        for name in args.reinit.split(","):
            for sub in modules[name].modules():
                if hasattr(sub, "reset_parameters"):
                    sub.reset_parameters()
        ema.load_state_dict(model.state_dict())
        print(f"drawn afresh: {args.reinit}", flush=True)
    budget_s = args.minutes * 60 if args.minutes is not None else None
    print(f"config {json.dumps(cfg)}; {count_parameters(model)} parameters; device {dev}", flush=True)

    def progress():
        a = elapsed / budget_s if budget_s else 0.0
        b = step / args.steps if args.steps else 0.0
        return min(max(a, b), 1.0)

    def save(name, extra=None):
        ck = {
            "config": cfg, "model": model.state_dict(), "ema": ema.state_dict(),
            "opt": opt.state_dict(), "step": step, "elapsed": elapsed, "best": best, "rows": rows,
        }
        ck.update(extra or {})
        tmp = os.path.join(args.out, name + ".tmp")
        torch.save(ck, tmp)
        os.replace(tmp, os.path.join(args.out, name))

    def validate():
        scores = []
        with torch.no_grad(), torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda):
            for x, y in val:
                scores.append(hard_dice(ema(x[None, None]), y[None]))
            if lateral:  # share of chirality views told right, printed
                right = [float((ema.chirality(x).flatten() > 0).float() == f) for x, _, f in chir_val]
                print(f"chirality validation: {np.mean(right):.3f} of {len(right)} views", flush=True)
        return float(np.mean(scores))

    loss_avg, dice_avg = None, None
    session_end = time.time() + args.session_minutes * 60 if args.session_minutes else None
    while progress() < 1.0:
        if session_end is not None and time.time() > session_end:
            v = validate()
            rows.append([step, round(elapsed, 1), rows[-1][2] if rows else 0.0, loss_avg, dice_avg, v])
            if v > best:
                best = v
                save("best.pt", {"val_dice": v})
            save("last.pt")
            write_log(args.out, rows)
            print(f"session time up at step {step} ({elapsed:.0f} s trained); resume with --resume {args.out}/last.pt")
            return
        t0 = time.time()
        frac = progress()
        # Warm-up over the first 2 %, then cosine down to 1 % of the peak: a low final learning
        # rate plus the weight average steadies the result (the probe swung 0.95-0.97 without).
        lr = cfg["lr"] * (min(1.0, frac / 0.02) if frac < 0.02 else 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        if not lateral:
            x, y = gen.batch(cfg["batch"])
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda):
                logits = model(x)
            loss = F.cross_entropy(logits.float(), y) + dice_loss(logits, y)
        else:
            loss, logits, y = lateral_loss(model, gen, chir_gen, cfg, args.part, dev, cuda)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.state_dict().values(), model.state_dict().values()):
                if pe.dtype.is_floating_point:
                    pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
                else:
                    pe.copy_(pm)
        if cuda:
            torch.cuda.synchronize()
        step += 1
        elapsed += time.time() - t0
        d = hard_dice(logits.detach(), y) if logits is not None else 0.0
        loss_avg = loss.item() if loss_avg is None else 0.95 * loss_avg + 0.05 * loss.item()
        dice_avg = d if dice_avg is None else 0.95 * dice_avg + 0.05 * d
        if step % cfg["val_every"] == 0 or progress() >= 1.0:
            v = validate()
            rows.append([step, round(elapsed, 1), lr, loss_avg, dice_avg, v])
            print(f"step {step} {elapsed:.0f}s lr {lr:.2e} loss {loss_avg:.4f} dice {dice_avg:.4f} val {v:.4f}", flush=True)
            if v > best:
                best = v
                save("best.pt", {"val_dice": v})
            save("last.pt")
            write_log(args.out, rows)
    print(f"done: {step} steps, {elapsed:.0f} s, best synthetic validation Dice {best:.4f}")


def views(gen, count):
    """`count` samples: images [N, 1, n, n, n], targets [N, n, n, n] (anatomy's labels), and
    whether each was flipped, float [N]."""
    xs, ys, fs = [], [], []
    for _ in range(count):
        x, y = gen.sample()
        xs.append(x)
        ys.append(y)
        fs.append(float(gen.last_flipped))
    return torch.stack(xs)[:, None], torch.stack(ys).long(), torch.tensor(fs, device=xs[0].device)


def array_sides(y, flipped):
    """The trunk's target: where a view was flipped, hemisphere labels 1 and 2 swapped, so 1 is
    always the hemisphere at low i (the left one of an unflipped RAS view)."""
    swap = flipped.bool()[:, None, None, None] & ((y == 1) | (y == 2))
    return torch.where(swap, 3 - y, y)


def lateral_loss(model, gen, chir_gen, cfg, part, dev, cuda):
    """One step's loss for LateralNet; returns (loss, trunk logits or None, its target)."""
    loss, logits, target = 0.0, None, None
    with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=cuda):
        if part in ("both", "trunk"):
            x, y, f = views(gen, cfg["batch"])
            target = array_sides(y, f)
            logits = model.trunk(x)
            loss = F.cross_entropy(logits.float(), target) + dice_loss(logits, target, present_only=True)
        if part in ("both", "chirality"):
            xc, _, fc = views(chir_gen, cfg["chirality_batch"])
            z = model.chirality(xc).flatten().float()
            loss = loss + F.binary_cross_entropy_with_logits(z, fc)
    return loss, logits, target


def write_log(out, rows):
    with open(os.path.join(out, "log.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["step", "seconds", "lr", "loss", "train_dice", "val_dice"])
        w.writerows(rows)
    steps = [r[0] for r in rows]
    img = line_plot({
        "loss": (steps, [min(r[3], 1.0) for r in rows], (220, 40, 40)),
        "train dice": (steps, [r[4] for r in rows], (40, 90, 220)),
        "val dice": (steps, [r[5] for r in rows], (30, 160, 60)),
    })
    write_png(os.path.join(out, "curve.png"), img)


if __name__ == "__main__":
    main()
