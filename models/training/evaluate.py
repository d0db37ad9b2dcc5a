#!/usr/bin/python3
"""Measures the bundled model through the app's own engine (`volseg segment`), on ch2 and on
variants of ch2 made here, and draws a PNG overlay of each.

    /usr/bin/python3 models/training/evaluate.py [--pack models/brain-extract] [--write-card]

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
    ii, jj, kk = np.meshgrid(*[np.linspace(-1, 1, n) for n in data.shape], indexing="ij")
    field = 0.45 * ii - 0.3 * jj + 0.35 * kk + 0.25 * ii * kk - 0.2 * jj**2
    p99 = np.percentile(data, 99)
    noisy = np.sqrt((data * np.exp(field) + rng.normal(0, 0.05 * p99, data.shape)) ** 2
                    + rng.normal(0, 0.05 * p99, data.shape) ** 2)
    save("bias-noise", noisy, t1.affine, ref, np.float32)
    ornt = ornt_transform(axcodes2ornt(("R", "A", "S")), axcodes2ornt(("P", "I", "L")))
    flipped = t1.as_reoriented(ornt)
    fref = nib.Nifti1Image(ref.astype(np.uint8), t1.affine).as_reoriented(ornt)
    save("flipped", np.asarray(flipped.dataobj), flipped.affine, np.asarray(fref.dataobj) > 0, np.uint8)
    save("stripped", np.asarray(bet.dataobj, np.float32), bet.affine, ref, np.uint8)
    half = os.path.join(work, "half-mm.nii.gz")
    if os.path.exists(half):  # the slowest to make (57 M voxels, cubic spline): kept between runs
        out["half-mm"] = (half, regrid_mask(ref, 0.5))
    else:
        arr, refm, aff = regrid(t1, ref, (0.5, 0.5, 0.5), order=3)
        save("half-mm", np.clip(np.round(arr), 0, 255), aff, refm, np.uint8)
    save_wide(save, t1, data, ref, rng)
    return out


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
    ap.add_argument("--pack", default=os.path.join(ROOT, "models", "brain-extract"))
    ap.add_argument("--work", default="/tmp/volseg-eval")
    ap.add_argument("--png", default=None, help="overlay folder (default <pack>/eval)")
    ap.add_argument("--only", default=",".join(VARIANTS))
    ap.add_argument("--ep", default="cpu")
    ap.add_argument("--write-card", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    png_dir = args.png or os.path.join(args.pack, "eval")
    os.makedirs(png_dir, exist_ok=True)
    variants = make_variants(args.work)
    results = {}
    for name in args.only.split(","):
        path, ref = variants[name]
        seg = os.path.join(args.work, f"{name}_seg.nii.gz")
        t = time.time()
        cmd = ["node", os.path.join(ROOT, "bin", "volseg.mjs"), "segment", path, "-o", seg,
               "--model", args.pack, "--ep", args.ep, "--overwrite"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        seconds = time.time() - t
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            sys.exit(f"{name}: volseg segment failed")
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
        {"name": "dice", "value": r["dice"], "dataset": DATASETS[n], "label": "brain"}
        for n, r in results.items()
    ]
    with open(path, "w") as f:
        f.write(dumps(card) + "\n")
    print(f"metrics written to {path}")


if __name__ == "__main__":
    main()
