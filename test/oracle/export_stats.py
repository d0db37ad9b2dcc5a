"""Independent oracle for the export statistics and meshes: nibabel + numpy on the reference
image and the mask, numpy-stl (Debian python3-stl) on STL files.

usage: export_stats.py REFERENCE.nii.gz MASK.nii.gz LABELS(comma list) [label=file.stl ...]
Prints JSON {labels: {value: {...}}, stl: {value: {vertices, triangles, min, max, areaMm2}}}.
Positions are LPS mm of voxel centres (nibabel's RAS affine with x and y negated)."""
import json, sys

import nibabel as nib
import numpy as np

ref = nib.load(sys.argv[1])
mask = np.asarray(nib.load(sys.argv[2]).dataobj).astype(np.int64)
image = ref.get_fdata(dtype=np.float64)
labels = [int(x) for x in sys.argv[3].split(",")]
lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ ref.affine
voxel_ml = abs(np.linalg.det(ref.affine[:3, :3])) / 1000
half = 0.5 * np.abs(lps[:3, :3]).sum(axis=1)  # half a voxel along each LPS axis (axis-aligned grids)

out = {"labels": {}, "stl": {}}
for v in labels:
    idx = np.argwhere(mask == v)
    pts = idx @ lps[:3, :3].T + lps[:3, 3]
    vals = image[mask == v]
    # Voxel faces between the label and anything else: the area of the blocky surface.
    on = np.pad(mask == v, 1)
    faces = sum(int(np.count_nonzero(on != np.roll(on, 1, axis=a))) * float(np.prod(np.delete(np.abs(np.diag(ref.affine[:3, :3])), a))) for a in range(3))
    out["labels"][str(v)] = {
        "voxels": int(len(idx)),
        "volumeMl": float(len(idx) * voxel_ml),
        "mean": float(vals.mean()),
        "std": float(vals.std()),
        "min": float(vals.min()),
        "median": float(np.median(vals)),
        "max": float(vals.max()),
        "bboxMinLPS": pts.min(axis=0).tolist(),
        "bboxMaxLPS": pts.max(axis=0).tolist(),
        "centroidLPS": pts.mean(axis=0).tolist(),
        "rawMeshMin": (pts.min(axis=0) - half).tolist(),
        "rawMeshMax": (pts.max(axis=0) + half).tolist(),
        "voxelFaceAreaMm2": faces,
    }

if len(sys.argv) > 4:
    from stl import mesh as stlmesh

    for arg in sys.argv[4:]:
        v, path = arg.split("=", 1)
        m = stlmesh.Mesh.from_file(path)
        verts = m.vectors.reshape(-1, 3)
        out["stl"][v] = {
            "vertices": int(len(np.unique(verts, axis=0))),
            "triangles": int(len(m.vectors)),
            "min": verts.min(axis=0).astype(float).tolist(),
            "max": verts.max(axis=0).astype(float).tolist(),
            "areaMm2": float(m.areas.astype(np.float64).sum()),
            "header": bytes(m.name).decode("ascii", "replace") if isinstance(m.name, (bytes, bytearray)) else str(m.name),
        }
print(json.dumps(out))
