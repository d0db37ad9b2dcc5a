#!/usr/bin/python3
"""Builds the training label map from ch2, ch2bet and the AAL atlas (committed: see sources/README.md).

Run with Debian's python3 (nibabel, scipy):  /usr/bin/python3 models/training/make_label_maps.py
Writes models/training/data/labelmap.npz (uint8 labels, 1 mm, RAS index order i, j, k) and
labelmap.json (class table). Deterministic. Only *labels* come out of here: ch2's intensities
define the tissue classes but are never written, so the network never sees the real image.

Classes (see LABELS): brain tissue 1-6 (the target), then "convention" classes just outside the
reference mask (7-8: tissue the reference leaves out, e.g. the medulla below its brainstem cut and
the sagittal sinus / interhemispheric CSF), non-brain head tissue 9-12, and synthetic anatomy
beyond ch2's field of view (13-16: cord, neck muscle, neck fat, vertebrae), which ch2 lacks since
it stops at the skull base.

The same file also holds `lateral` (same grid): the target of the lateralised model
(`train.py --task lateral`, LATERAL): inside the reference mask, each voxel takes the side of its
nearest AAL region (AAL's odd numbers are the `_L` regions, even the `_R` ones: aal.nii.txt), so
white matter, sulcal CSF and the ventricles go to the hemisphere they lie in; the cerebellum and
vermis regions (91-116), and the brainstem whose nearest regions they are, form one class.
RAS index order: i grows toward the patient's Right, so the left hemisphere has the smaller i.
"""

import json
import os
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
# Inputs live in the repository so a clone trains and tests on its own: ch2 is the test fixture,
# ch2bet and AAL are in sources/ (provenance and licence: sources/README.md).
CH2 = os.path.normpath(os.path.join(HERE, "..", "..", "test", "fixtures", "ch2.nii.gz"))
CH2BET = os.path.join(HERE, "sources", "ch2bet.nii.gz")
AAL = os.path.join(HERE, "sources", "aal.nii.gz")
OUT = os.path.join(HERE, "data")

LABELS = {
    0: "background (air)",
    1: "CSF inside the brain mask",
    2: "cortical grey matter",
    3: "white matter",
    4: "deep grey matter (caudate, putamen, pallidum, thalamus)",
    5: "cerebellar grey matter",
    6: "cerebellar white matter and brainstem",
    7: "brain-like tissue within 8 mm outside the reference mask",
    8: "CSF-like tissue within 8 mm outside the reference mask",
    9: "dark head tissue (skull, air cavities)",
    10: "mid-dark head tissue",
    11: "mid head tissue (muscle)",
    12: "bright head tissue (fat, marrow, scalp)",
    13: "spinal cord (synthetic, below the field of view)",
    14: "neck muscle (synthetic)",
    15: "neck fat (synthetic)",
    16: "vertebrae (synthetic)",
}
BRAIN = [1, 2, 3, 4, 5, 6]
LATERAL = {
    0: "background",
    1: "left cerebral hemisphere",
    2: "right cerebral hemisphere",
    3: "cerebellum and brainstem",
}
# AAL region numbers (sources/aal.nii.txt): 1-90 cerebrum (odd _L, even _R), 91-116 cerebellum
# (91-108 hemispheres, odd _L / even _R) and vermis (109-116), 71-78 deep grey matter.
AAL_CEREBRUM = range(1, 91)
AAL_CEREBELLUM = range(91, 117)
AAL_DEEP_GREY = range(71, 79)
# Padding in voxels (1 mm) added around ch2's grid so generated views can reach beyond it:
# (before, after) per axis i (R), j (A), k (S); the neck goes below (k before).
PAD = ((24, 24), (24, 24), (96, 16))
RIM_MM = 8


def kmeans_1d(values, k, iters=50):
    """Lloyd's k-means on a 1-D sample, centres initialised at quantiles; returns sorted centres."""
    centres = np.quantile(values, (np.arange(k) + 0.5) / k)
    for _ in range(iters):
        idx = np.argmin(np.abs(values[:, None] - centres[None, :]), axis=1)
        new = np.array([values[idx == c].mean() if np.any(idx == c) else centres[c] for c in range(k)])
        if np.allclose(new, centres):
            break
        centres = new
    return np.sort(centres)


def classify(values, centres):
    return np.argmin(np.abs(values[:, None] - centres[None, :]), axis=1)


def largest_component(mask):
    lab, n = ndimage.label(mask, structure=np.ones((3, 3, 3)))
    if n == 0:
        sys.exit("empty mask")
    sizes = ndimage.sum(mask, lab, range(1, n + 1))
    return lab == (1 + int(np.argmax(sizes)))


def reference_mask(ch2bet):
    """The evaluation reference: largest component of ch2bet > 0, holes filled."""
    return ndimage.binary_fill_holes(largest_component(ch2bet > 0))


def main():
    t1 = nib.load(CH2)
    bet = nib.load(CH2BET)
    aal = nib.load(AAL)
    if nib.aff2axcodes(t1.affine) != ("R", "A", "S"):
        sys.exit("expected ch2 stored in RAS order")
    img = np.asarray(t1.dataobj, dtype=np.float32)
    atlas = np.asarray(aal.dataobj).astype(np.int32)
    brain = reference_mask(np.asarray(bet.dataobj))
    labels = np.zeros(img.shape, np.uint8)

    # Brain: three intensity classes, then atlas regions on top.
    centres = kmeans_1d(img[brain], 3)
    cls = classify(img[brain], centres)
    labels[brain] = np.array([1, 2, 3], np.uint8)[cls]
    deep = brain & np.isin(atlas, AAL_DEEP_GREY) & (labels != 1)
    labels[deep] = 4
    cereb_region = ndimage.binary_dilation(np.isin(atlas, AAL_CEREBELLUM), iterations=2) & brain
    labels[cereb_region & (labels == 2)] = 5
    labels[cereb_region & (labels == 3)] = 6
    # Brainstem: brain voxels below the cerebrum's atlas coverage that are not cerebellum.
    cerebrum = ndimage.binary_dilation(np.isin(atlas, AAL_CEREBRUM), iterations=3)
    stem = brain & ~cerebrum & ~cereb_region & (labels != 1)
    labels[stem] = 6

    # Head: everything above a low threshold, closed and filled slice by slice and in 3-D.
    head_thr = 0.5 * centres[0]
    head = ndimage.binary_closing(img > head_thr, iterations=3)
    head = largest_component(head | brain)
    for k in range(head.shape[2]):
        head[:, :, k] = ndimage.binary_fill_holes(head[:, :, k])
    head = ndimage.binary_fill_holes(head)

    # Convention rim just outside the reference: tissue the reference excludes by convention.
    dist = ndimage.distance_transform_edt(~brain)
    rim = (dist > 0) & (dist <= RIM_MM) & head
    rim_bright = rim & (img >= 0.5 * (centres[0] + centres[1]))
    labels[rim_bright] = 7
    labels[rim & ~rim_bright & (img >= head_thr)] = 8

    # Other head tissue: four intensity classes.
    rest = head & (labels == 0)
    hc = kmeans_1d(img[rest], 4)
    labels[rest] = (9 + classify(img[rest], hc)).astype(np.uint8)

    labels = np.pad(labels, PAD)
    add_neck(labels, brain)
    lateral = np.pad(lateral_map(atlas, brain), PAD)
    os.makedirs(OUT, exist_ok=True)
    np.savez_compressed(os.path.join(OUT, "labelmap.npz"), labels=labels, lateral=lateral)
    counts = np.bincount(labels.ravel(), minlength=len(LABELS))
    lat_counts = np.bincount(lateral.ravel(), minlength=len(LATERAL))
    table = {
        "source": "ch2 (test/fixtures), ch2bet and aal (models/training/sources): mricron-data, BSD-3-Clause",
        "spacingMm": [1, 1, 1],
        "indexOrder": "RAS (i right, j anterior, k superior)",
        "shape": list(labels.shape),
        "paddingVoxels": PAD,
        "brainLabels": BRAIN,
        "labels": {str(k): {"name": v, "voxels": int(counts[k])} for k, v in LABELS.items()},
        "lateral": {str(k): {"name": v, "voxels": int(lat_counts[k])} for k, v in LATERAL.items()},
    }
    with open(os.path.join(OUT, "labelmap.json"), "w") as f:
        json.dump(table, f, indent=2)
        f.write("\n")
    print(f"labelmap {labels.shape}, brain {int(brain.sum())} voxels, classes {np.unique(labels).tolist()}")


def lateral_map(atlas, brain):
    """The lateralised target (LATERAL) on the atlas grid: every voxel of `brain` takes the class
    of its nearest AAL region (Euclidean, voxel units; the grid is 1 mm isotropic): cerebral odd
    (`_L`) -> 1, cerebral even (`_R`) -> 2, cerebellum/vermis -> 3; 0 outside `brain`."""
    _, nearest = ndimage.distance_transform_edt(atlas == 0, return_indices=True)
    region = atlas[tuple(nearest)]
    out = np.zeros(atlas.shape, np.uint8)
    cerebrum = brain & np.isin(region, AAL_CEREBRUM)
    out[cerebrum & (region % 2 == 1)] = 1
    out[cerebrum & (region % 2 == 0)] = 2
    out[brain & np.isin(region, AAL_CEREBELLUM)] = 3
    return out


def add_neck(labels, brain):
    """Synthetic neck below ch2's bottom slice (in the padded grid): the cord continues the
    brainstem downwards, inside vertebrae, inside neck muscle wrapped in fat. Shapes are simple
    ellipses whose size changes smoothly with height; the generator deforms them further."""
    pi, pj = PAD[0][0], PAD[1][0]
    filled = np.flatnonzero(labels.reshape(-1, labels.shape[2]).any(axis=0))
    pk = int(filled[0])  # lowest slice with head tissue (ch2's first slices are empty)
    bottom = labels[:, :, pk]
    head_cols = np.argwhere(bottom > 0)
    padded_brain = np.pad(brain, PAD)
    low = int(np.flatnonzero(padded_brain.reshape(-1, labels.shape[2]).any(axis=0))[0])
    stem_cols = np.argwhere(padded_brain[:, :, low])
    if len(head_cols) == 0:
        return
    ci, cj = head_cols.mean(axis=0)
    si, sj = stem_cols.mean(axis=0) if len(stem_cols) else (ci, cj - 10)
    ii, jj = np.meshgrid(np.arange(labels.shape[0]), np.arange(labels.shape[1]), indexing="ij")
    for k in range(pk - 1, -1, -1):
        depth = pk - k  # mm below ch2's bottom slice
        t = min(depth / 40.0, 1.0)
        # Neck narrows from the head's bottom outline to ~120 x 110 mm, then widens (shoulders).
        ri = 60 + 25 * (1 - t) + max(0, depth - 70) * 1.5
        rj = 55 + 20 * (1 - t)
        e = ((ii - ci) / ri) ** 2 + ((jj - (cj - 5)) / rj) ** 2
        sl = np.zeros(e.shape, np.uint8)
        sl[e <= 1.0] = 15
        sl[e <= 0.8] = 14
        vj = sj - 8
        ve = ((ii - si) / 14) ** 2 + ((jj - vj) / 14) ** 2
        sl[ve <= 1.0] = 16
        ce = ((ii - si) / 6) ** 2 + ((jj - sj) / 6) ** 2
        sl[ce <= 1.0] = 13
        labels[:, :, k] = sl


if __name__ == "__main__":
    main()
