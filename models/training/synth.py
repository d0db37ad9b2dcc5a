"""Synthetic training images generated from label maps only (SynthStrip-style), in PyTorch so
the same code runs on the CPU and on a GPU.

Every call draws: a random affine (rotation, scale, shear, translation) plus a smooth elastic
field; optional clutter (random ellipsoids of extra labels outside the head: shoulders, coils,
pillows); optionally the non-brain labels set to background (already brain-extracted inputs);
per-label random intensities (the "convention" labels often copy a brain class, so the net must
learn the reference's cut from shape and position); acquisition blur and down-/up-sampling to a
random resolution and slice thickness; a bias field; gamma; noise; a random left-right flip. The
image is then normalised exactly as the model card tells the app to (percentiles 0.5/99.5 -> 0/1).

The target is the brain mask (labels BRAIN), or a multi-class map given as `targets_np` (the
lateralised model: make_label_maps.LATERAL), resampled through the same grid. The left-right flip
moves the target with the image and keeps its values: after a flip the anatomical left
hemisphere still carries "left" although it lies on the other side of the array, so the array
direction tells the network nothing and it must tell the sides apart by the anatomy itself.
`last_flipped` says whether the last sample was mirrored.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

BRAIN = (1, 2, 3, 4, 5, 6)
CONVENTION_BRIGHT, CONVENTION_DARK = 7, 8
CLUTTER_FIRST, CLUTTER_COUNT = 17, 6
N_LABELS = CLUTTER_FIRST + CLUTTER_COUNT
# Labels the clutter may overwrite: background and non-brain head/neck tissue, never brain or
# the convention rim.
CLUTTER_TARGETS = (0, 9, 10, 11, 12, 13, 14, 15, 16)
NORM_PERCENTILES = (0.5, 99.5)


class Options:
    """Probabilities and ranges of the generator (defaults: the recipe in README.md)."""

    def __init__(self, **kw):
        self.rotate_deg = 20.0
        self.scale = (0.85, 1.15)
        self.shear = 0.05
        self.shift_mm = 25.0
        # Views centred far from the brain (down into the neck, out to the sides), so tiles of a
        # wide field of view that hold little or no brain are seen in training too.
        self.p_far_view = 0.3
        self.far_box_mm = ((-45.0, 45.0), (-60.0, 60.0), (-120.0, 40.0))
        self.elastic_mm = 3.0
        self.elastic_points = 5
        self.p_clutter = 0.5
        self.p_stripped = 0.2
        self.p_convention_copies = 0.5
        self.p_thick = 0.35
        self.res_mm = (1.0, 2.5)
        self.thick_mm = (3.0, 6.0)
        self.bias_std = (0.0, 0.35)
        self.gamma_std = 0.25
        self.noise = (0.0, 0.06)
        self.p_flip_lr = 0.5
        # Field-of-view edges: real scans often stop mid-head or mid-neck, and the app pads a
        # volume's edge with zeros; without this the network met no abrupt image edge in training.
        self.p_fov_cut = 0.0
        # Other flips/permutations stay off by default: the app reorients every input to the
        # card's orientation before inference, so storage order never reaches the network.
        self.p_other_orientation = 0.0
        # T1-like order of the brain classes' random means (CSF < grey < white matter), so the
        # folding pattern is always visible (the chirality part's views).
        self.t1_order = False
        self.__dict__.update(kw)


# The lateralised model (train.py --task lateral) tells the hemispheres apart by the brain's own
# asymmetry (shape, gyral pattern), which strong shear and elastic warps would blur: milder
# geometry than the brain-extraction recipe; everything else as there.
LATERAL_GEOMETRY = dict(rotate_deg=10.0, scale=(0.92, 1.08), shear=0.0, elastic_mm=1.5, shift_mm=20.0)
# Views for the chirality part: centred on the brain (a view of the neck cannot tell), the brain
# alone (LateralNet masks its input with the trunk's brain probability), T1-like class order.
CHIRALITY_VIEWS = dict(p_far_view=0.0, p_fov_cut=0.0, p_stripped=1.0, t1_order=True,
                       rotate_deg=4.0, scale=(0.96, 1.04), shift_mm=8.0, elastic_mm=1.0)


class Generator:
    def __init__(self, labels_np, spacing_mm, size, device, seed, options=None, targets_np=None):
        """`labels_np`: uint8 label map, 1 mm voxels, RAS index order. `size`: output voxels per
        axis (cube) at `spacing_mm`. `targets_np`: optional uint8 target map on the same grid
        (0 outside the brain); without it the target is the brain mask."""
        self.device = torch.device(device)
        self.opt = options or Options()
        self.size = int(size)
        self.spacing = float(spacing_mm)
        lab = torch.from_numpy(labels_np.astype(np.float32))
        self.labels = lab.to(self.device)[None, None]
        self.targets = None
        if targets_np is not None:
            if targets_np.shape != labels_np.shape:
                raise ValueError(f"target map {targets_np.shape} != label map {labels_np.shape}")
            t = torch.from_numpy(targets_np.astype(np.float32))
            self.targets = t.to(self.device)[None, None]
        self.shape = labels_np.shape
        brain = np.isin(labels_np, BRAIN)
        self.brain_centre = np.argwhere(brain).mean(axis=0)
        self.rng = np.random.default_rng(seed)
        self.torch_gen = torch.Generator(device=self.device).manual_seed(seed)

    # -- random helpers -------------------------------------------------------------------
    def u(self, lo, hi, size=None):
        return self.rng.uniform(lo, hi, size)

    def randn(self, *shape):
        return torch.randn(*shape, generator=self.torch_gen, device=self.device)

    def rand(self, *shape):
        return torch.rand(*shape, generator=self.torch_gen, device=self.device)

    # -- geometry -------------------------------------------------------------------------
    def sample_grid(self):
        """Source (label-map voxel) coordinates of every output voxel, as grid_sample wants."""
        o, n, s = self.opt, self.size, self.spacing
        ax = [math.radians(self.u(-o.rotate_deg, o.rotate_deg)) for _ in range(3)]
        cx, sx = math.cos(ax[0]), math.sin(ax[0])
        cy, sy = math.cos(ax[1]), math.sin(ax[1])
        cz, sz = math.cos(ax[2]), math.sin(ax[2])
        rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
        ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
        rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
        shear = np.eye(3) + self.u(-o.shear, o.shear, (3, 3)) * (1 - np.eye(3))
        m = rz @ ry @ rx @ shear @ np.diag(self.u(*o.scale, 3))
        if self.rng.random() < o.p_far_view:
            centre = self.brain_centre + np.array([self.u(lo, hi) for lo, hi in o.far_box_mm])
        else:
            centre = self.brain_centre + self.u(-o.shift_mm, o.shift_mm, 3)
        idx = (torch.arange(n, device=self.device, dtype=torch.float32) - (n - 1) / 2) * s
        zz, yy, xx = torch.meshgrid(idx, idx, idx, indexing="ij")
        pts = torch.stack([zz, yy, xx], -1).reshape(-1, 3)
        mt = torch.tensor(m, dtype=torch.float32, device=self.device)
        src = pts @ mt.T + torch.tensor(centre, dtype=torch.float32, device=self.device)
        src = src.reshape(n, n, n, 3)
        k = o.elastic_points
        disp = self.randn(1, 3, k, k, k) * o.elastic_mm
        disp = F.interpolate(disp, size=(n, n, n), mode="trilinear", align_corners=True)
        src = src + disp[0].permute(1, 2, 3, 0)
        # grid_sample: last dim is (W, H, D) = label-map axes (2, 1, 0), normalised to [-1, 1].
        dims = torch.tensor(self.shape, dtype=torch.float32, device=self.device)
        norm = src / (dims - 1) * 2 - 1
        return norm.flip(-1)[None]

    def ellipsoids(self, lab):
        """Paints 1-6 random ellipsoids of clutter labels where `lab` is background/head."""
        n = self.size
        idx = torch.arange(n, device=self.device, dtype=torch.float32)
        zz, yy, xx = torch.meshgrid(idx, idx, idx, indexing="ij")
        allowed = torch.zeros_like(lab, dtype=torch.bool)
        for t in CLUTTER_TARGETS:
            allowed |= lab == t
        for _ in range(int(self.rng.integers(1, 7))):
            c = self.u(0, n, 3)
            r = self.u(4, 40, 3) / self.spacing
            e = ((zz - c[0]) / r[0]) ** 2 + ((yy - c[1]) / r[1]) ** 2 + ((xx - c[2]) / r[2]) ** 2
            value = CLUTTER_FIRST + int(self.rng.integers(0, CLUTTER_COUNT))
            lab = torch.where((e <= 1) & allowed, torch.full_like(lab, value), lab)
        return lab

    # -- intensities ----------------------------------------------------------------------
    def intensities(self, lab, stripped):
        o = self.opt
        mean = self.u(0, 1, N_LABELS)
        std = self.u(0, 0.08, N_LABELS)
        if o.t1_order:
            mean[[1, 2, 3]] = np.sort(mean[[1, 2, 3]])
        mean[0] = 0.0 if stripped else self.u(0, 0.15)
        std[0] = 0.0 if stripped else std[0] * 0.5
        if self.rng.random() < o.p_convention_copies:
            mean[CONVENTION_BRIGHT] = mean[int(self.rng.choice([2, 3, 6]))]
        if self.rng.random() < o.p_convention_copies:
            mean[CONVENTION_DARK] = mean[1]
        li = lab.long()
        m = torch.tensor(mean, dtype=torch.float32, device=self.device)[li]
        sd = torch.tensor(std, dtype=torch.float32, device=self.device)[li]
        img = m + sd * self.randn(*lab.shape)
        return img

    def blur(self, img, sigma_vox):
        """Separable Gaussian blur, sigma in output voxels per axis."""
        x = img[None, None]
        for axis, sg in enumerate(sigma_vox):
            if sg < 0.3:
                continue
            r = int(math.ceil(2.5 * sg))
            t = torch.arange(-r, r + 1, device=self.device, dtype=torch.float32)
            k = torch.exp(-0.5 * (t / sg) ** 2)
            k = k / k.sum()
            shape = [1, 1, 1, 1, 1]
            shape[2 + axis] = len(k)
            pad = [0, 0, 0, 0, 0, 0]
            pad[2 * (2 - axis)] = pad[2 * (2 - axis) + 1] = r
            x = F.conv3d(F.pad(x, pad, mode="replicate"), k.reshape(shape))
        return x[0, 0]

    def acquisition(self, img):
        """Blur + down-sample to a random acquisition resolution, then back up (linear), as the
        app's linear resampling does to a low-resolution input."""
        o, n, s = self.opt, self.size, self.spacing
        res = self.u(*o.res_mm, 3)
        if self.rng.random() < o.p_thick:
            res[int(self.rng.integers(0, 3))] = self.u(*o.thick_mm)
        factor = np.maximum(res / s, 1.0)
        img = self.blur(img, [0.45 * (f - 1) if f > 1 else 0.0 for f in factor])
        low = [max(4, int(round(n / f))) for f in factor]
        if any(lw < n for lw in low):
            img = F.interpolate(img[None, None], size=low, mode="trilinear", align_corners=False)
            img = F.interpolate(img, size=(n, n, n), mode="trilinear", align_corners=False)[0, 0]
        return img

    def bias(self, img):
        n = self.size
        std = self.u(*self.opt.bias_std)
        field = self.randn(1, 1, 4, 4, 4) * std
        field = F.interpolate(field, size=(n, n, n), mode="trilinear", align_corners=True)
        return img * torch.exp(field[0, 0])

    # -- one sample -----------------------------------------------------------------------
    def sample(self):
        """Returns (image float32 [n,n,n], target uint8 [n,n,n]) on the device."""
        o = self.opt
        grid = self.sample_grid()
        lab = F.grid_sample(self.labels, grid, mode="nearest", align_corners=True)[0, 0]
        brain = torch.zeros_like(lab, dtype=torch.uint8)
        for b in BRAIN:
            brain |= (lab == b).to(torch.uint8)
        if self.targets is None:
            target = brain
        else:
            t = F.grid_sample(self.targets, grid, mode="nearest", align_corners=True)[0, 0]
            target = t.to(torch.uint8)
        stripped = self.rng.random() < o.p_stripped
        if stripped:
            lab = torch.where(brain.bool(), lab, torch.zeros_like(lab))
        elif self.rng.random() < o.p_clutter:
            lab = self.ellipsoids(lab)
        img = self.intensities(lab, stripped)
        img = self.blur(img, [self.u(0, 0.6)] * 3)  # texture: neighbouring voxels correlate
        img = self.acquisition(img)
        img = self.bias(img).clamp_min(0)
        img = img / img.max().clamp_min(1e-6)
        img = img ** float(np.exp(self.rng.normal(0, o.gamma_std)))
        sigma = self.u(*o.noise)
        noise = self.randn(*img.shape) * sigma
        img = img + (noise * (img > 0) if stripped else noise.abs())
        if self.rng.random() < o.p_fov_cut:
            img, target = self.fov_cut(img, target)
        # Whether this sample was mirrored (LateralNet's chirality target).
        self.last_flipped = bool(self.rng.random() < o.p_flip_lr)
        if self.last_flipped:
            img, target = img.flip(0), target.flip(0)
        if self.rng.random() < o.p_other_orientation:
            axes = [int(a) for a in self.rng.permutation(3)]
            img, target = img.permute(*axes), target.permute(*axes)
            flips = [a for a in range(3) if self.rng.random() < 0.5]
            if flips:
                img, target = img.flip(flips), target.flip(flips)
        return normalise(img), target

    def fov_cut(self, img, target):
        """Zeroes the image (and target) beyond one or two random axis-aligned planes."""
        n = self.size
        img, target = img.clone(), target.clone()
        for axis in self.rng.choice(3, size=int(self.rng.integers(1, 3)), replace=False):
            at = int(self.rng.integers(n // 6, n - n // 6))
            sl = [slice(None)] * 3
            sl[int(axis)] = slice(at, None) if self.rng.random() < 0.5 else slice(0, at)
            img[tuple(sl)] = 0
            target[tuple(sl)] = 0
        return img, target

    def batch(self, count):
        xs, ys = zip(*(self.sample() for _ in range(count)))
        return torch.stack(xs)[:, None], torch.stack(ys).long()


def normalise(img):
    """Percentile normalisation as the card declares: p0.5 -> 0, p99.5 -> 1, no clipping
    (the engine's `percentile` kind, numpy's linear percentile definition)."""
    flat = img.reshape(-1)
    if flat.numel() > 2_000_000:  # torch.quantile's input limit; a strided sample is plenty
        flat = flat[:: int(math.ceil(flat.numel() / 2_000_000))]
    q = torch.quantile(flat, torch.tensor([p / 100 for p in NORM_PERCENTILES], device=img.device))
    return (img - q[0]) / (q[1] - q[0]).clamp_min(1e-6)
