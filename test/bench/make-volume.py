"""Writes the synthetic bench volume: 512x512x300 int16 NIfTI (.nii.gz), 0.7x0.7x1.0 mm, seeded.

CT-like content: air (-1000) plus a sum of smooth 3-D gaussian blobs and gaussian noise, so the
gzip size is in the range of a real CT rather than that of an all-zero array.
Usage: /usr/bin/python3 test/bench/make-volume.py OUT.nii.gz
"""

import sys

import nibabel as nib
import numpy as np

NI, NJ, NK = 512, 512, 300
SPACING = (0.7, 0.7, 1.0)


def main(out: str) -> None:
    rng = np.random.default_rng(20240501)
    i = np.arange(NI, dtype=np.float32)
    j = np.arange(NJ, dtype=np.float32)
    k = np.arange(NK, dtype=np.float32)
    vol = np.full((NI, NJ, NK), -1000.0, dtype=np.float32)
    for _ in range(8):
        ci, cj, ck = rng.uniform(0.25, 0.75, 3) * (NI, NJ, NK)
        si, sj, sk = rng.uniform(0.08, 0.3, 3) * (NI, NJ, NK)
        amp = rng.uniform(300.0, 1400.0)
        gi = np.exp(-0.5 * ((i - ci) / si) ** 2)
        gj = np.exp(-0.5 * ((j - cj) / sj) ** 2)
        gk = np.exp(-0.5 * ((k - ck) / sk) ** 2)
        vol += amp * gi[:, None, None] * gj[None, :, None] * gk[None, None, :]
    vol += rng.standard_normal(vol.shape, dtype=np.float32) * 12.0
    data = np.clip(np.rint(vol), -32768, 32767).astype(np.int16)
    affine = np.diag([-SPACING[0], -SPACING[1], SPACING[2], 1.0])
    affine[:3, 3] = [0.5 * (NI - 1) * SPACING[0], 0.5 * (NJ - 1) * SPACING[1], -150.0]
    img = nib.Nifti1Image(data, affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    img.header.set_xyzt_units('mm')
    nib.save(img, out)


if __name__ == '__main__':
    main(sys.argv[1])
