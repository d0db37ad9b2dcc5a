"""Dependency-free PNG output (numpy + zlib): line plots and label overlays, so the recipe runs on
machines without matplotlib or PIL (the GPU machine)."""

import struct
import zlib

import numpy as np


def write_png(path, rgb):
    """Writes an H x W x 3 uint8 array as an 8-bit RGB PNG."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(chunk(b"IEND", b""))


def line_plot(series, width=640, height=360, y_range=(0.0, 1.0)):
    """Rasterises {name: (xs, ys, (r, g, b))} on a white canvas with a light grid every 0.1 of
    the y range; returns the RGB array. No text: the caller names the series in its log."""
    img = np.full((height, width, 3), 255, np.uint8)
    m = 20
    y0, y1 = y_range
    for g in np.linspace(0, 1, 11):
        img[int(m + (1 - g) * (height - 2 * m)), m : width - m] = (225, 225, 225)
    img[m : height - m, m] = 0
    img[height - m, m : width - m] = 0
    xmax = max((max(xs) for xs, _, _ in series.values() if len(xs)), default=1) or 1
    for xs, ys, color in series.values():
        if len(xs) < 1:
            continue
        px = m + np.asarray(xs, float) / xmax * (width - 2 * m - 1)
        py = m + (1 - (np.clip(np.asarray(ys, float), y0, y1) - y0) / (y1 - y0)) * (height - 2 * m - 1)
        for a in range(len(px)):
            b = min(a + 1, len(px) - 1)
            n = int(max(abs(px[b] - px[a]), abs(py[b] - py[a]), 1)) * 2
            for t in np.linspace(0, 1, n):
                x = int(round(px[a] + t * (px[b] - px[a])))
                y = int(round(py[a] + t * (py[b] - py[a])))
                img[max(y - 1, 0) : y + 1, max(x - 1, 0) : x + 1] = color
    return img


def overlay(gray, mask, ref=None, color=(255, 60, 60), ref_color=(60, 255, 60), alpha=0.4):
    """2-D slice (gray, any range) with `mask` filled in `color` and `ref`'s outline drawn in
    `ref_color`. Returns RGB uint8."""
    g = np.asarray(gray, np.float32)
    lo, hi = np.percentile(g, [0.5, 99.5])
    g = np.clip((g - lo) / max(hi - lo, 1e-6), 0, 1) * 255
    rgb = np.repeat(g[..., None], 3, axis=2)
    m = np.asarray(mask, bool)
    rgb[m] = (1 - alpha) * rgb[m] + alpha * np.asarray(color, np.float32)
    if ref is not None:
        r = np.asarray(ref, bool)
        edge = r & ~(
            np.roll(r, 1, 0) & np.roll(r, -1, 0) & np.roll(r, 1, 1) & np.roll(r, -1, 1)
        )
        rgb[edge] = ref_color
    return rgb.astype(np.uint8)


def label_colors(labels, seed=3):
    """A fixed random colour per label value, for looking at label maps."""
    rng = np.random.default_rng(seed)
    lut = rng.integers(40, 256, size=(256, 3)).astype(np.uint8)
    lut[0] = 0
    return lut[labels]
