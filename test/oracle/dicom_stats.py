"""Independent oracle for DICOM pixel values: pydicom (gdcmconv --raw first when pydicom has no
decoder here). Prints JSON {file: {rows, columns, frames, rescaled: {min, max, sum}} | {error}}."""
import json, os, subprocess, sys, tempfile

import numpy as np
import pydicom


def decode(path):
    ds = pydicom.dcmread(path)
    try:
        arr = ds.pixel_array
    except Exception:  # no pydicom decoder for this syntax: let gdcm decompress it
        with tempfile.TemporaryDirectory() as tmp:
            raw = os.path.join(tmp, "raw.dcm")
            subprocess.run(["gdcmconv", "--raw", path, raw], check=True, capture_output=True)
            ds = pydicom.dcmread(raw)
            arr = ds.pixel_array
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    inter = float(getattr(ds, "RescaleIntercept", 0) or 0)
    real = arr.astype(np.float64) * slope + inter
    return {
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "frames": int(getattr(ds, "NumberOfFrames", 1) or 1),
        "rescaled": {"min": float(real.min()), "max": float(real.max()), "sum": float(real.sum())},
    }


out = {}
for f in sys.argv[1:]:
    try:
        out[f] = decode(f)
    except Exception as e:  # noqa: BLE001 - report, the test decides
        out[f] = {"error": f"{type(e).__name__}: {e}"}
print(json.dumps(out))
