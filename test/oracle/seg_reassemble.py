"""Independent oracle for a DICOM SEG: pydicom reads the SEG and the source series, each frame is
put on the source grid by its own ImagePositionPatient (solved against the source series' IPP/IOP,
which pydicom reads too, not against anything VolSeg wrote), and the result is compared voxel for
voxel with the expected label map (a NIfTI read by nibabel, the chosen labels kept).

usage: seg_reassemble.py SEG.dcm SOURCE_DIR EXPECTED.nii.gz LABELS(comma list)
Prints JSON: frames, voxel counts, mismatches, per-frame reference check, UIDs, segments."""
import glob, json, sys

import nibabel as nib
import numpy as np
import pydicom

seg_path, src_dir, expected_path, labels_arg = sys.argv[1:5]
wanted = [int(x) for x in labels_arg.split(",")]

# The source series, sorted by position along the slice normal (pydicom only).
src = [pydicom.dcmread(f, stop_before_pixels=True) for f in sorted(glob.glob(src_dir + "/*"))]
iop = np.array(src[0].ImageOrientationPatient, float)
row, col = iop[:3], iop[3:]
normal = np.cross(row, col)
src.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, float))))
ipp0 = np.array(src[0].ImagePositionPatient, float)
dr, dc = (float(x) for x in src[0].PixelSpacing)  # row spacing (between rows), column spacing
pos = [float(np.dot(normal, np.array(d.ImagePositionPatient, float) - ipp0)) for d in src]
dz = (pos[-1] - pos[0]) / (len(pos) - 1)
rows, cols, nk = int(src[0].Rows), int(src[0].Columns), len(src)

seg = pydicom.dcmread(seg_path)
frames = seg.pixel_array
if frames.ndim == 2:
    frames = frames[None]
shared = seg.SharedFunctionalGroupsSequence[0]
number_to_value = {}
segments = []
for s in seg.SegmentSequence:
    segments.append({
        "number": int(s.SegmentNumber),
        "label": str(s.SegmentLabel),
        "algorithmType": str(s.SegmentAlgorithmType),
        "algorithmName": str(getattr(s, "SegmentAlgorithmName", "")),
        "category": str(s.SegmentedPropertyCategoryCodeSequence[0].CodeValue),
        "type": str(s.SegmentedPropertyTypeCodeSequence[0].CodeValue),
        "lab": [int(x) for x in s.RecommendedDisplayCIELabValue],
    })
# The caller's label values, in order, are the segments' (one segment per exported label).
for s, v in zip(sorted(segments, key=lambda s: s["number"]), wanted):
    number_to_value[s["number"]] = v

vol = np.zeros((cols, rows, nk), np.uint16)  # nibabel order: i (column), j (row), k
bad_refs = 0
off_grid = 0
for n, f in enumerate(seg.PerFrameFunctionalGroupsSequence):
    ipp = np.array(f.PlanePositionSequence[0].ImagePositionPatient, float)
    fo = getattr(f, "PlaneOrientationSequence", None) or shared.PlaneOrientationSequence
    if not np.allclose(np.array(fo[0].ImageOrientationPatient, float), iop, atol=1e-4):
        off_grid += 1
        continue
    d = ipp - ipp0
    i0 = np.dot(d, row) / dc
    j0 = np.dot(d, col) / dr
    kf = np.dot(d, normal) / dz
    k = int(round(kf))
    if abs(i0) > 1e-3 or abs(j0) > 1e-3 or abs(kf - k) > 1e-3 or not 0 <= k < nk:
        off_grid += 1
        continue
    ref = f.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
    if ref != src[k].SOPInstanceUID:
        bad_refs += 1
    value = number_to_value[int(f.SegmentIdentificationSequence[0].ReferencedSegmentNumber)]
    on = frames[n].astype(bool).T  # frame is (rows, cols) -> (i, j)
    if np.any(vol[:, :, k][on] != 0):
        raise SystemExit("overlapping segments")
    vol[:, :, k][on] = value

# Expected: nibabel's array (i, j, k) in the NIfTI's own k order; our SEG grid is the DICOM's.
# Map both to LPS to compare: NIfTI voxel (i,j,k) -> LPS; DICOM grid voxel -> LPS.
exp_img = nib.load(expected_path)
exp = np.asarray(exp_img.dataobj).astype(np.int64)
exp = np.where(np.isin(exp, wanted), exp, 0)
aff_lps = np.diag([-1, -1, 1, 1]) @ exp_img.affine
dicom_aff = np.eye(4)
dicom_aff[:3, 0] = row * dc
dicom_aff[:3, 1] = col * dr
dicom_aff[:3, 2] = normal * dz
dicom_aff[:3, 3] = ipp0
# index map DICOM grid -> NIfTI grid (both regular grids of the same volume)
m = np.linalg.inv(aff_lps) @ dicom_aff
ii, jj, kk = np.meshgrid(np.arange(cols), np.arange(rows), np.arange(nk), indexing="ij")
idx = np.stack([ii, jj, kk, np.ones_like(ii)], -1) @ m.T
ni = np.rint(idx[..., :3]).astype(int)
assert np.abs(idx[..., :3] - ni).max() < 1e-3, "grids differ"
expected_on_dicom = exp[ni[..., 0], ni[..., 1], ni[..., 2]]
mismatch = int(np.count_nonzero(expected_on_dicom != vol))

print(json.dumps({
    "frames": int(frames.shape[0]),
    "numberOfFrames": int(seg.NumberOfFrames),
    "segmentVoxels": int(np.count_nonzero(vol)),
    "expectedVoxels": int(np.count_nonzero(expected_on_dicom)),
    "mismatch": mismatch,
    "offGrid": off_grid,
    "badReferences": bad_refs,
    "emptyFrames": int(sum(1 for f in frames if not f.any())),
    "perLabel": {str(v): int(np.count_nonzero(vol == v)) for v in wanted},
    "study": [str(seg.StudyInstanceUID), str(src[0].StudyInstanceUID)],
    "frameOfReference": [str(seg.FrameOfReferenceUID), str(src[0].FrameOfReferenceUID)],
    "referencedSeries": str(seg.ReferencedSeriesSequence[0].SeriesInstanceUID),
    "sourceSeries": str(src[0].SeriesInstanceUID),
    "segmentationType": str(seg.SegmentationType),
    "sopClass": str(seg.SOPClassUID),
    "modality": str(seg.Modality),
    "segments": segments,
}))
