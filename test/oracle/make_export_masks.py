"""Writes label maps for the export tests on the grid of REFERENCE (a NIfTI), with nibabel:
final.nii.gz (1 = ellipsoid, 2 = sphere, 3 = a box in the lowest 5 slices only, so a k flip
shows) and ai.nii.gz (the "model's" map: the sphere 2 voxels off in i, the box absent), uint8.

usage: make_export_masks.py REFERENCE OUT_DIR"""
import sys

import nibabel as nib
import numpy as np

ref = nib.load(sys.argv[1])
ni, nj, nk = ref.shape[:3]
i, j, k = np.meshgrid(np.arange(ni), np.arange(nj), np.arange(nk), indexing="ij")
final = np.zeros((ni, nj, nk), np.uint8)
final[((i - ni * 0.5) / (ni * 0.3)) ** 2 + ((j - nj * 0.5) / (nj * 0.3)) ** 2 + ((k - nk * 0.55) / (nk * 0.3)) ** 2 <= 1] = 1
sphere = lambda ci: (i - ci) ** 2 + (j - nj * 0.3) ** 2 + (k - nk * 0.3) ** 2 <= 7 ** 2
final[sphere(ni * 0.25)] = 2
final[int(ni * 0.65):int(ni * 0.8), int(nj * 0.65):int(nj * 0.8), 0:5] = 3
ai = np.zeros_like(final)
ai[final == 1] = 1
ai[sphere(ni * 0.25 + 2)] = 2
nib.save(nib.Nifti1Image(final, ref.affine), sys.argv[2] + "/final.nii.gz")
nib.save(nib.Nifti1Image(ai, ref.affine), sys.argv[2] + "/ai.nii.gz")
