#!/usr/bin/python3
"""Measures the bundled model through the app's own engine (`volseg segment`), on ch2 and on
variants of ch2 made here, and draws a PNG overlay of each.

    /usr/bin/python3 models/training/evaluate.py [--pack models/brain-extract] [--write-card]
    /usr/bin/python3 models/training/evaluate.py --task lateral [--pack models/brain-lateral] [--write-card]

Reference: largest component of `ch2bet > 0`, holes filled (make_label_maps.reference_mask),
carried to each variant's grid through world coordinates (linear, >= 0.5). Variants:
  ch2         the fixture as stored (1 mm, RAS)
  thick       1.5 x 1.5 x 4 mm (4 mm Gaussian slice profile along S, then linear sampling)
  bias-noise  strong smooth multiplicative bias (x0.55 to x1.8) plus Rician noise (5 % of p99)
  flipped     the same image stored P-I-L (permuted and flipped axes, same world positions)
  stripped    ch2bet itself: an already brain-extracted input
  half-mm     0.5 mm isotropic (cubic spline)
  wide-fov    ch2 with a synthetic neck and shoulders below it and air around it (labelmap.npz's
              synthetic anatomy, filled with ch2's own tissue intensities plus texture)
Needs nibabel and scipy (Debian python3-nibabel, python3-scipy) and a built app (npm run build).

`--task lateral` scores the lateralised model per label against make_label_maps.lateral_map on
ch2, and on LATERAL_VARIANTS: `mirrored` (ch2's voxels mirrored along i, the RAS header
unchanged: a left-right flip in storage under a wrong header; the reference is the anatomy's
labels mirrored with the voxels), `flipped` and `bias-noise` as above. It also prints each
lateralised label's centroid offset from the centroid of the whole predicted brain along LPS x
(+ = the patient's left, from the header), which is what the cohort's wrong-side flag looks at.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import nibabel as nib
import numpy as np
from nibabel.orientations import axcodes2ornt, ornt_transform
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import make_label_maps as mlm  # noqa: E402
from png import overlay, write_png  # noqa: E402

VARIANTS = ["ch2", "thick", "bias-noise", "flipped", "stripped", "half-mm", "wide-fov"]
LATERAL_VARIANTS = ["ch2", "mirrored", "flipped", "bias-noise"]


def regrid(img, ref, zoom_mm, order=1, profile=None):
    """Resamples `img` (and the float reference) onto a grid of `zoom_mm` voxels covering the
    same extent; `profile` = Gaussian slice-profile sigma (mm) per axis applied first."""
    data = np.asarray(img.dataobj, np.float32)
    if profile is not None:
        data = ndimage.gaussian_filter(data, profile)
    z = np.asarray(zoom_mm, float)
    shape = np.floor((np.array(data.shape) - 1) / z).astype(int) + 1
    grid = np.indices(shape, dtype=np.float32).reshape(3, -1) * z[:, None].astype(np.float32)
    out = ndimage.map_coordinates(data, grid, order=order, mode="nearest").reshape(shape)
    refo = ndimage.map_coordinates(ref.astype(np.float32), grid, order=1).reshape(shape) >= 0.5
    aff = img.affine @ np.diag([*z, 1])
    return out, refo, aff


def make_variants(work):
    t1 = nib.load(mlm.CH2)
    bet = nib.load(mlm.CH2BET)
    ref = mlm.reference_mask(np.asarray(bet.dataobj))
    data = np.asarray(t1.dataobj, np.float32)
    rng = np.random.default_rng(7)
    out = {}

    def save(name, arr, aff, refm, dtype):
        path = os.path.join(work, f"{name}.nii.gz")
        if not os.path.exists(path):
            im = nib.Nifti1Image(arr.astype(dtype), aff)
            im.set_qform(aff, 1)
            im.set_sform(aff, 1)
            im.to_filename(path)
        out[name] = (path, refm)

    save("ch2", data, t1.affine, ref, np.uint8)
    arr, refm, aff = regrid(t1, ref, (1.5, 1.5, 4.0), profile=(0.6, 0.6, 4.0 / 2.355))
    save("thick", arr, aff, refm, np.float32)
    save("bias-noise", bias_noise(data, rng), t1.affine, ref, np.float32)
    flipped, fref = reorient_pil(t1, ref)
    save("flipped", np.asarray(flipped.dataobj), flipped.affine, fref > 0, np.uint8)
    save("stripped", np.asarray(bet.dataobj, np.float32), bet.affine, ref, np.uint8)
    half = os.path.join(work, "half-mm.nii.gz")
    if os.path.exists(half):  # the slowest to make (57 M voxels, cubic spline): kept between runs
        out["half-mm"] = (half, regrid_mask(ref, 0.5))
    else:
        arr, refm, aff = regrid(t1, ref, (0.5, 0.5, 0.5), order=3)
        save("half-mm", np.clip(np.round(arr), 0, 255), aff, refm, np.uint8)
    save_wide(save, t1, data, ref, rng)
    return out


def bias_noise(data, rng):
    """Strong smooth multiplicative bias (x0.55 to x1.8) plus Rician noise (5 % of p99)."""
    ii, jj, kk = np.meshgrid(*[np.linspace(-1, 1, n) for n in data.shape], indexing="ij")
    field = 0.45 * ii - 0.3 * jj + 0.35 * kk + 0.25 * ii * kk - 0.2 * jj**2
    p99 = np.percentile(data, 99)
    return np.sqrt((data * np.exp(field) + rng.normal(0, 0.05 * p99, data.shape)) ** 2
                   + rng.normal(0, 0.05 * p99, data.shape) ** 2)


def reorient_pil(t1, ref):
    """ch2 stored P-I-L (permuted and flipped axes, same world positions) and `ref` with it."""
    ornt = ornt_transform(axcodes2ornt(("R", "A", "S")), axcodes2ornt(("P", "I", "L")))
    fref = nib.Nifti1Image(ref.astype(np.uint8), t1.affine).as_reoriented(ornt)
    return t1.as_reoriented(ornt), np.asarray(fref.dataobj)


def lateral_variants(work):
    """LATERAL_VARIANTS: {name: (path, reference label map on that file's grid)}."""
    t1 = nib.load(mlm.CH2)
    atlas = np.asarray(nib.load(mlm.AAL).dataobj).astype(np.int32)
    brain = mlm.reference_mask(np.asarray(nib.load(mlm.CH2BET).dataobj))
    ref = mlm.lateral_map(atlas, brain)
    data = np.asarray(t1.dataobj)
    flipped, fref = reorient_pil(t1, ref)
    made = {
        "ch2": (data, t1.affine, ref, np.uint8),
        # Voxels mirrored along i, header unchanged: the anatomy moves, its labels with it.
        "mirrored": (data[::-1], t1.affine, ref[::-1], np.uint8),
        "flipped": (np.asarray(flipped.dataobj), flipped.affine, fref, np.uint8),
        "bias-noise": (bias_noise(data.astype(np.float32), np.random.default_rng(7)), t1.affine, ref, np.float32),
    }
    out = {}
    for name, (arr, aff, refm, dtype) in made.items():
        path = os.path.join(work, f"lateral-{name}.nii.gz")
        im = nib.Nifti1Image(np.ascontiguousarray(arr).astype(dtype), aff)
        im.set_qform(aff, 1)
        im.set_sform(aff, 1)
        im.to_filename(path)
        out[name] = (path, refm)
    return out


def lps_x(affine, mask):
    """Mean LPS x (mm) of the voxels of `mask` (LPS x = -RAS x)."""
    idx = np.argwhere(mask)
    if len(idx) == 0:
        return float("nan")
    return float(-(affine[0, :3] @ idx.mean(axis=0) + affine[0, 3]))


def draw_lateral(name, image_path, seg, png_dir):
    """Axial and coronal mid-brain slices: left hemisphere red, right blue, cerebellum yellow;
    the patient's left (as the header says) on the picture's left, anterior / superior up."""
    im = nib.as_closest_canonical(nib.load(image_path))
    sg = nib.as_closest_canonical(nib.Nifti1Image(seg.astype(np.uint8), nib.load(image_path).affine))
    img, lab = np.asarray(im.dataobj, np.float32), np.asarray(sg.dataobj)
    c = np.round(np.argwhere(lab > 0).mean(axis=0)).astype(int)
    tiles = []
    for axis in (2, 1):
        sl = [slice(None)] * 3
        sl[axis] = c[axis]
        g, m = np.rot90(img[tuple(sl)]), np.rot90(lab[tuple(sl)])
        rgb = overlay(g, m == 1, color=(230, 50, 50)).astype(np.float32)
        for v, col in ((2, (50, 100, 240)), (3, (240, 200, 50))):
            rgb[m == v] = 0.6 * rgb[m == v] + 0.4 * np.asarray(col, np.float32)
        tiles.append(rgb.astype(np.uint8))
    h = max(t.shape[0] for t in tiles)
    tiles = [np.pad(t, ((0, h - t.shape[0]), (0, 4), (0, 0))) for t in tiles]
    write_png(os.path.join(png_dir, f"{name}.png"), np.concatenate(tiles, 1))


def segment(path, seg, pack, ep):
    """`volseg segment` through the built app; returns the seconds it took."""
    t = time.time()
    cmd = ["node", os.path.join(ROOT, "bin", "volseg.mjs"), "segment", path, "-o", seg,
           "--model", pack, "--ep", ep, "--overwrite"]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        sys.exit(f"{path}: volseg segment failed")
    return time.time() - t


def main_lateral(args):
    card = json.load(open(os.path.join(args.pack, "model.json")))
    fg = [l for l in card["labels"] if l["value"] != 0]
    variants = lateral_variants(args.work)
    png_dir = args.png or os.path.join(args.pack, "eval")
    os.makedirs(png_dir, exist_ok=True)
    results = {}
    for name in (args.only.split(",") if args.only else LATERAL_VARIANTS):
        path, ref = variants[name]
        seg_path = os.path.join(args.work, f"lateral-{name}_seg.nii.gz")
        seconds = segment(path, seg_path, args.pack, args.ep)
        src, out = nib.load(path), nib.load(seg_path)
        if out.shape != src.shape or not np.allclose(out.affine, src.affine, atol=1e-4):
            sys.exit(f"{name}: mask grid differs from the source grid")
        seg = np.asarray(out.dataobj)
        brain_x = lps_x(src.affine, seg > 0)
        r = {"seconds": round(seconds, 1), "dice": {}, "lpsXFromBrainMm": {}}
        for l in fg:
            r["dice"][l["name"]] = round(float(dice(seg == l["value"], ref == l["value"])), 4)
            if "side" in l:
                r["lpsXFromBrainMm"][l["name"]] = round(lps_x(src.affine, seg == l["value"]) - brain_x, 1)
        r["meanDice"] = round(float(np.mean(list(r["dice"].values()))), 4)
        results[name] = r
        print(f"{name:11s} {seconds:5.1f} s  Dice " + "  ".join(f"{k} {v:.4f}" for k, v in r["dice"].items())
              + "  LPS x from brain centre " + "  ".join(f"{k} {v:+.1f} mm" for k, v in r["lpsXFromBrainMm"].items()),
              flush=True)
        draw_lateral(name, path, seg, png_dir)
    with open(os.path.join(png_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    if args.write_card:
        rows = {}
        for n, r in results.items():
            for label, d in r["dice"].items():
                rows[f"{n}/{label}"] = {"dice": d, "label": label, "dataset": LATERAL_DATASETS[n]}
            for label, x in r["lpsXFromBrainMm"].items():
                rows[f"{n}/{label}/x"] = {"name": "centroid LPS x from the brain's centroid (mm)",
                                          "dice": x, "label": label, "dataset": LATERAL_DATASETS[n]}
        write_card(args.pack, rows)


LATERAL_DATASETS = {
    "ch2": "ch2 (Colin27 T1, 1 mm, the training subject) vs make_label_maps.lateral_map",
    "mirrored": "ch2 mirrored in storage under its RAS header vs the mirrored anatomy's labels (evaluate.py)",
    "flipped": "ch2 stored P-I-L (evaluate.py)",
    "bias-noise": "ch2 with strong bias field and Rician noise (evaluate.py)",
}


def regrid_mask(ref, z):
    """The reference on the isotropic `z` mm grid regrid() makes."""
    shape = np.floor((np.array(ref.shape) - 1) / z).astype(int) + 1
    grid = np.indices(shape, dtype=np.float32).reshape(3, -1) * np.float32(z)
    return ndimage.map_coordinates(ref.astype(np.float32), grid, order=1).reshape(shape) >= 0.5


def save_wide(save, t1, data, ref, rng):
    lm_path = os.path.join(HERE, "data", "labelmap.npz")
    if not os.path.exists(lm_path):
        mlm.main()
    lab = np.load(lm_path)["labels"]
    (a0, _), (b0, _), (c0, _) = mlm.PAD
    wide = np.zeros(lab.shape, np.float32)
    wide[a0 : a0 + data.shape[0], b0 : b0 + data.shape[1], c0 : c0 + data.shape[2]] = data
    # Tissue intensities of the synthetic neck taken from ch2's own classes (labels 9-12 and
    # white matter for the cord, which in T1 looks like the brainstem it continues).
    core = lab[a0 : a0 + data.shape[0], b0 : b0 + data.shape[1], c0 : c0 + data.shape[2]]
    mean = {v: float(data[core == v].mean()) for v in (3, 9, 10, 11, 12)}
    neck = {13: mean[3], 14: mean[11], 15: mean[12], 16: mean[10]}
    region = np.zeros(lab.shape, bool)
    region[:, :, :c0] = True
    for v, m in neck.items():
        sel = region & (lab == v)
        wide[sel] = m
    texture = ndimage.gaussian_filter(rng.normal(0, 1, lab.shape).astype(np.float32), 1.0)
    wide[region & (lab > 0)] += 8 * texture[region & (lab > 0)]
    wide = np.clip(wide + np.abs(rng.normal(0, 2, lab.shape)), 0, 255)
    aff = t1.affine.copy()
    aff[:3, 3] -= aff[:3, :3] @ np.array([a0, b0, c0], float)
    wref = np.zeros(lab.shape, bool)
    wref[a0 : a0 + data.shape[0], b0 : b0 + data.shape[1], c0 : c0 + data.shape[2]] = ref
    save("wide-fov", wide, aff, wref, np.uint8)


def dice(a, b):
    return 2 * np.logical_and(a, b).sum() / max(a.sum() + b.sum(), 1)


def draw(name, image_path, mask, ref, png_dir):
    img = np.asarray(nib.load(image_path).dataobj, np.float32)
    c = np.round(np.argwhere(ref).mean(axis=0)).astype(int)
    # Sagittal plane 10 mm off the midline: on the midline the reference's interhemispheric cut
    # makes its outline unreadable. The image's sagittal axis is whichever is closest to L-R.
    aff = nib.load(image_path).affine
    lr_axis = int(np.argmax(np.abs(aff[0, :3])))
    c[lr_axis] = min(c[lr_axis] + int(round(10 / np.linalg.norm(aff[:3, lr_axis]))), ref.shape[lr_axis] - 1)
    tiles = []
    for axis in range(3):
        sl = [slice(None)] * 3
        sl[axis] = c[axis]
        sl = tuple(sl)
        # Square pixels on screen: repeat voxels by their in-plane size ratio.
        zooms = [np.linalg.norm(aff[:3, a]) for a in range(3) if a != axis]
        reps = [max(1, int(round(z / min(zooms)))) for z in zooms]

        def fit(a):
            return np.rot90(np.repeat(np.repeat(a, reps[0], axis=0), reps[1], axis=1))

        t = overlay(fit(img[sl]), fit(mask[sl]), fit(ref[sl]))
        tiles.append(t)
    h = max(t.shape[0] for t in tiles)
    tiles = [np.pad(t, ((0, h - t.shape[0]), (0, 4), (0, 0))) for t in tiles]
    write_png(os.path.join(png_dir, f"{name}.png"), np.concatenate(tiles, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=["brain", "lateral"], default="brain")
    ap.add_argument("--pack", default=None, help="default models/brain-extract or models/brain-lateral")
    ap.add_argument("--work", default="/tmp/volseg-eval")
    ap.add_argument("--png", default=None, help="overlay folder (default <pack>/eval)")
    ap.add_argument("--only", default=None, help="comma-separated variants (default all)")
    ap.add_argument("--ep", default="cpu")
    ap.add_argument("--write-card", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    if args.pack is None:
        args.pack = os.path.join(ROOT, "models", "brain-lateral" if args.task == "lateral" else "brain-extract")
    if args.task == "lateral":
        return main_lateral(args)
    args.only = args.only or ",".join(VARIANTS)
    png_dir = args.png or os.path.join(args.pack, "eval")
    os.makedirs(png_dir, exist_ok=True)
    variants = make_variants(args.work)
    results = {}
    for name in args.only.split(","):
        path, ref = variants[name]
        seg = os.path.join(args.work, f"{name}_seg.nii.gz")
        seconds = segment(path, seg, args.pack, args.ep)
        out = nib.load(seg)
        src = nib.load(path)
        if out.shape != src.shape or not np.allclose(out.affine, src.affine, atol=1e-4):
            sys.exit(f"{name}: mask grid differs from the source grid")
        mask = np.asarray(out.dataobj) == 1
        d = dice(mask, ref)
        results[name] = {"dice": round(float(d), 4), "seconds": round(seconds, 1),
                         "shape": list(src.shape), "zooms": [round(float(z), 3) for z in src.header.get_zooms()[:3]]}
        print(f"{name:11s} Dice {d:.4f}  {seconds:5.1f} s  grid {src.shape} {results[name]['zooms']} mm", flush=True)
        draw(name, path, mask, ref, png_dir)
    with open(os.path.join(png_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    if args.write_card:
        write_card(args.pack, results)


DATASETS = {
    "ch2": "ch2 (Colin27 T1, 1 mm) vs largest component of ch2bet > 0, holes filled",
    "thick": "ch2 resampled to 1.5 x 1.5 x 4 mm (evaluate.py)",
    "bias-noise": "ch2 with strong bias field and Rician noise (evaluate.py)",
    "flipped": "ch2 stored P-I-L (evaluate.py)",
    "stripped": "ch2bet (already brain-extracted input)",
    "half-mm": "ch2 resampled to 0.5 mm (evaluate.py)",
    "wide-fov": "ch2 with synthetic neck and shoulders (evaluate.py)",
}


def write_card(pack, results):
    sys.path.insert(0, os.path.join(ROOT, "test", "tiny-model"))
    from export_models import dumps

    path = os.path.join(pack, "model.json")
    with open(path) as f:
        card = json.load(f)
    card["metrics"] = [
        {"name": r.get("name", "dice"), "value": r["dice"], "dataset": r.get("dataset", DATASETS.get(n)),
         "label": r.get("label", "brain")}
        for n, r in results.items()
    ]
    with open(path, "w") as f:
        f.write(dumps(card) + "\n")
    print(f"metrics written to {path}")


if __name__ == "__main__":
    main()
