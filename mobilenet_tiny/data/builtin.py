"""Offline, procedurally generated image-classification sets (`builtin:<name>`), at any resolution.

`shapes` is the demo default, a stand-in for shapes drawn with a marker on paper and seen by a camera: one
circle, square, triangle or cross per image (filled, or now and then a thick outline), darker than the
background, at a random position, size, colour and tilt (±20° from upright), over a background with a
gradient, blotchy low-frequency shading, clutter (faint blobs and thin line segments) and pixel noise. The
ranges are in `ShapeStyle`. Everything is drawn with signed distance functions on a coordinate grid,
vectorised over a chunk of images with numpy, so any H×W is drawn natively (anti-aliased edges, no
resampling); 2,000 images at 96×96 take about two seconds.

Images are generated in luminance first and given colour by adding a chroma offset that leaves luma
unchanged, so the gray (C=1) and RGB (C=3) versions of one seed show the same scene at the same contrast.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import UserError
from .photos import PHOTO_LABELS, draw_photos

# ITU-R 601 luma weights, the same Pillow uses for RGB → L.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_REACH = 1.3  # the farthest point of any shape from its centre, in units of its size r
_CHUNK = 256  # images drawn at once: bounds memory to a few (chunk, H, W) float32 arrays


@dataclass(frozen=True)
class ShapeStyle:
    """The nuisance factors of `shapes`: dark marker shapes on light paper under uneven light.

    Tuned by training MobileNetV1 α0.25 96×96×1 (tools/check_builtin_accuracy.py): with shapes at any
    rotation, or light and dark shapes on any background, it sat at chance for most of a few-minute run;
    upright ±20° and one polarity it learns in ~800 steps while clutter, outlines and noise keep it honest.
    """
    size: tuple[float, float] = (0.3, 0.6)  # radius, as a fraction of half the shorter side
    rotation: float = 20.0  # shapes are turned by up to ± this many degrees from upright
    outline_fraction: float = 0.15  # share of shapes drawn as thick outlines instead of filled
    background: tuple[float, float] = (0.55, 0.95)  # background luma
    contrast: tuple[float, float] = (0.3, 0.6)  # luma step from background to shape
    dark_fraction: float = 1.0  # share of shapes darker than the background (the others are lighter)
    gradient: float = 0.15  # amplitude of the background's linear gradient
    shading: float = 0.08  # amplitude of the blotchy background shading
    clutter_probability: float = 0.3  # per clutter slot (two blobs, two segments)
    clutter_opacity: tuple[float, float] = (0.3, 0.7)
    noise: tuple[float, float] = (0.01, 0.04)  # standard deviation of the pixel noise


@dataclass(frozen=True)
class BuiltinSet:
    """One generated set: its class names, a default size and the function that draws it."""
    labels: tuple[str, ...]
    default_n: int
    draw: Callable[[int, tuple[int, int, int], int], tuple[np.ndarray, np.ndarray]]
    description: str
    channels: int = 1  # what the set is by nature (1 gray, 3 colour): the model's input by default


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Pixel-centre coordinates scaled so the shorter side spans [-1, 1] (shapes keep their proportions on
    non-square inputs), and the size of one pixel in those units (the anti-aliasing width)."""
    pixel = 2.0 / min(h, w)
    ys = (np.arange(h, dtype=np.float32) - (h - 1) / 2) * pixel
    xs = (np.arange(w, dtype=np.float32) - (w - 1) / 2) * pixel
    return ys[:, None], xs[None, :], pixel


def _coverage(distance: np.ndarray, pixel: float) -> np.ndarray:
    """Signed distance (negative inside) → fraction of the pixel covered: a one-pixel linear ramp."""
    return np.clip(0.5 - distance / pixel, 0.0, 1.0)


def _shape_distance(kind: np.ndarray, a: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Signed distance to each image's shape; (a, b) are the rotated offsets from its centre, r its size.

    Sizes are chosen so the four shapes cover similar areas: size alone gives the class away less.
    """
    d = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype=np.float32)
    circle, square, triangle, cross = (kind == k for k in range(4))
    if circle.any():
        d[circle] = np.hypot(a[circle], b[circle]) - r[circle]
    if square.any():
        d[square] = np.maximum(np.abs(a[square]), np.abs(b[square])) - 0.85 * r[square]
    if triangle.any():
        at, bt, rt = a[triangle], b[triangle], r[triangle]
        # Equilateral: three half-planes whose normals are 120° apart, inradius 0.65 r.
        normals = [(np.cos(t), np.sin(t)) for t in np.pi / 2 + np.array([0, 2, 4]) * np.pi / 3]
        d[triangle] = np.max([at * nx + bt * ny for nx, ny in normals], axis=0) - 0.65 * rt
    if cross.any():
        ac, bc, rc = np.abs(a[cross]), np.abs(b[cross]), 1.15 * r[cross]
        half_width = 0.32 * rc
        d[cross] = np.minimum(np.maximum(ac - rc, bc - half_width), np.maximum(bc - rc, ac - half_width))
    return d


def _colour(rng: np.random.Generator, luma: np.ndarray, chroma: float) -> np.ndarray:
    """RGB colours with the given luma: a random offset orthogonal to the luma weights, clipped to [0, 1]."""
    offset = rng.standard_normal(size=(luma.size, 3), dtype=np.float32)
    offset -= np.outer(offset @ _LUMA / (_LUMA @ _LUMA), _LUMA)
    length = np.linalg.norm(offset, axis=1, keepdims=True) + 1e-6
    offset *= chroma * rng.uniform(0, 1, size=(luma.size, 1)) / length
    return np.clip(luma[:, None] + offset, 0.0, 1.0)


def _low_frequency(rng: np.random.Generator, n: int, h: int, w: int, cells: int = 4) -> np.ndarray:
    """Smooth random shading: a (cells+1)² grid of values, bilinearly interpolated to H×W."""
    knots = rng.uniform(-1, 1, size=(n, cells + 1, cells + 1)).astype(np.float32)

    def weights(size):
        pos = np.linspace(0, cells, size, dtype=np.float32)
        lo = np.minimum(pos.astype(int), cells - 1)
        frac = pos - lo
        m = np.zeros((size, cells + 1), dtype=np.float32)
        m[np.arange(size), lo] = 1 - frac
        m[np.arange(size), lo + 1] = frac
        return m

    return weights(h) @ knots @ weights(w).T


def _draw_shapes_chunk(rng: np.random.Generator, hue: np.random.Generator, kind: np.ndarray, h: int, w: int,
                       c: int, style: ShapeStyle) -> np.ndarray:
    """One chunk of images. `rng` draws the scene, `hue` only the colours: gray and RGB share the scene."""
    n = kind.size
    ys, xs, pixel = _grid(h, w)
    y_extent, x_extent = h / min(h, w), w / min(h, w)

    def per_image(values):
        return np.asarray(values, dtype=np.float32)[:, None, None]

    # Background: base luma + linear gradient + blotchy shading.
    bg_luma = rng.uniform(*style.background, n).astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi, n)
    slope = per_image(rng.uniform(0, style.gradient, n))
    gradient = slope * (ys * per_image(np.sin(angle)) + xs * per_image(np.cos(angle)))
    shading = per_image(rng.uniform(0, style.shading, n)) * _low_frequency(rng, n, h, w)
    variation = gradient + shading  # luma change shared by all channels

    # The shape is darker (or lighter) than the background by a luma step from style.contrast, clipped to
    # [0, 1]; with the default ranges the clip still leaves a step of at least 0.3: never invisible.
    dark = rng.uniform(size=n) < style.dark_fraction
    step = rng.uniform(*style.contrast, n).astype(np.float32)
    fg_luma = np.clip(np.where(dark, bg_luma - step, bg_luma + step), 0.0, 1.0).astype(np.float32)

    if c == 3:
        canvas = _colour(hue, bg_luma, 0.25)[:, None, None, :] + variation[..., None]
        fg = _colour(hue, fg_luma, 0.25)[:, None, None, :]
    else:
        canvas = (bg_luma[:, None, None] + variation)[..., None]
        fg = fg_luma[:, None, None, None]

    # Clutter under the shape: up to two blobs and two thin segments per image, each present or not.
    for slot in range(4):
        present = rng.uniform(size=n) < style.clutter_probability
        cy = per_image(rng.uniform(-y_extent, y_extent, n))
        cx = per_image(rng.uniform(-x_extent, x_extent, n))
        if slot < 2:  # a small blob
            distance = np.hypot(ys - cy, xs - cx) - per_image(rng.uniform(0.03, 0.1, n))
        else:  # a thin segment from (cy, cx) in a random direction
            theta = rng.uniform(0, 2 * np.pi, n)
            length = per_image(rng.uniform(0.2, 0.8, n))
            dy, dx = per_image(np.sin(theta)), per_image(np.cos(theta))
            t = np.clip((ys - cy) * dy + (xs - cx) * dx, 0, length)
            half_width = per_image(rng.uniform(0.3, 1.0, n) * pixel)
            distance = np.hypot(ys - cy - t * dy, xs - cx - t * dx) - half_width
        opacity = per_image(present * rng.uniform(*style.clutter_opacity, n))
        alpha = (_coverage(distance, pixel) * opacity)[..., None]
        clutter_luma = rng.uniform(0, 1, n).astype(np.float32)
        colour = _colour(hue, clutter_luma, 0.3) if c == 3 else clutter_luma[:, None]
        canvas = canvas * (1 - alpha) + colour[:, None, None, :] * alpha

    # The shape: size, centre, rotation; filled or a thick outline. The centre keeps the whole shape in the
    # frame (1.3 r is the triangle's circumradius, the farthest any shape reaches): a triangle with its apex
    # cut off would be a mislabelled trapezoid.
    r = rng.uniform(*style.size, n).astype(np.float32)
    cy = rng.uniform(-1, 1, n) * np.maximum(y_extent - _REACH * r, 0.0)
    cx = rng.uniform(-1, 1, n) * np.maximum(x_extent - _REACH * r, 0.0)
    rot = np.deg2rad(rng.uniform(-style.rotation, style.rotation, n))
    oy, ox = ys - per_image(cy), xs - per_image(cx)
    cos, sin = per_image(np.cos(rot)), per_image(np.sin(rot))
    a, b = ox * cos + oy * sin, oy * cos - ox * sin
    distance = _shape_distance(kind, a, b, per_image(r) + np.zeros_like(a))
    outlined = rng.uniform(size=n) < style.outline_fraction
    thickness = per_image(r * rng.uniform(0.15, 0.25, n))
    distance = np.where(per_image(outlined), np.abs(distance + thickness) - thickness, distance)
    alpha = _coverage(distance, pixel)[..., None]
    canvas = canvas * (1 - alpha) + fg * alpha

    # Sensor noise, then the uint8 pixels a camera would deliver.
    sigma = per_image(rng.uniform(*style.noise, n))[..., None]
    canvas += rng.standard_normal(size=canvas.shape, dtype=np.float32) * sigma
    return np.clip(np.rint(canvas * 255), 0, 255).astype(np.uint8)


def _draw_balanced(n: int, input_shape: tuple[int, int, int], seed: int, num_classes: int, draw_chunk
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Balanced, shuffled labels and their images, drawn chunk by chunk from per-chunk seeded streams (so
    the chunk size is the only thing that ties images together)."""
    h, w, c = input_shape
    labels = np.arange(n, dtype=np.int32) % num_classes
    np.random.default_rng([seed, 0]).shuffle(labels)
    x = np.empty((n, h, w, c), dtype=np.uint8)
    for chunk, start in enumerate(range(0, n, _CHUNK)):
        stop = min(start + _CHUNK, n)
        scene, hue = np.random.default_rng([seed, 1, chunk]), np.random.default_rng([seed, 2, chunk])
        x[start:stop] = draw_chunk(scene, hue, labels[start:stop], h, w, c)
    return x, labels


def draw_shapes(n: int, input_shape: tuple[int, int, int], seed: int, style: ShapeStyle = ShapeStyle()
                ) -> tuple[np.ndarray, np.ndarray]:
    """n images (uint8, N×H×W×C) and labels (int32) of the `shapes` set; balanced classes, shuffled order.
    Deterministic for (n, input_shape, seed, style)."""
    return _draw_balanced(n, input_shape, seed, len(SHAPE_LABELS),
                          lambda scene, hue, kind, h, w, c: _draw_shapes_chunk(scene, hue, kind, h, w, c, style))


def _draw_textures_chunk(rng: np.random.Generator, hue: np.random.Generator, kind: np.ndarray, h: int, w: int,
                         c: int) -> np.ndarray:
    """Periodic patterns filling the frame: stripes one way or the other, a checkerboard, a grid of dots.
    Their classes differ in every small patch, which a CNN picks up within a couple of hundred steps."""
    n = kind.size
    ys, xs, pixel = _grid(h, w)

    def per_image(values):
        return np.asarray(values, dtype=np.float32)[:, None, None]

    period = per_image(rng.uniform(max(0.15, 5 * pixel), max(0.4, 10 * pixel), n))  # ≥ 5 px: no aliasing
    tilt = np.deg2rad(rng.uniform(-15, 15, n))
    cos, sin = per_image(np.cos(tilt)), per_image(np.sin(tilt))
    u = 2 * np.pi * ((xs * cos + ys * sin) / period + per_image(rng.uniform(0, 1, n)))
    v = 2 * np.pi * ((ys * cos - xs * sin) / period + per_image(rng.uniform(0, 1, n)))
    kind = kind[:, None, None]
    wave = np.where(kind == 0, np.sin(v), 0) + np.where(kind == 1, np.sin(u), 0)
    wave = wave + np.where(kind == 2, 2 * np.sin(u) * np.sin(v), 0) + np.where(kind == 3, np.cos(u) + np.cos(v) - 1, 0)
    pattern = np.tanh(3 * wave)  # soft-edged, mostly two-level like printed patterns

    base = rng.uniform(0.3, 0.7, n).astype(np.float32)
    amplitude = per_image(rng.uniform(0.1, 0.3, n))
    shading = per_image(rng.uniform(0, 0.15, n)) * _low_frequency(rng, n, h, w)
    luma = per_image(base) + amplitude * pattern + shading
    if c == 3:
        dark, light = _colour(hue, base, 0.3), _colour(hue, base, 0.3)
        mix = (pattern[..., None] + 1) / 2
        canvas = dark[:, None, None, :] * (1 - mix) + light[:, None, None, :] * mix
        canvas += (luma - per_image(base))[..., None]  # keep the luma pattern in the colour version
    else:
        canvas = luma[..., None]
    sigma = per_image(rng.uniform(0.01, 0.05, n))[..., None]
    canvas += rng.standard_normal(size=canvas.shape, dtype=np.float32) * sigma
    return np.clip(np.rint(canvas * 255), 0, 255).astype(np.uint8)


def draw_textures(n: int, input_shape: tuple[int, int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n images and labels of the `textures` set; balanced classes, shuffled order, deterministic."""
    return _draw_balanced(n, input_shape, seed, len(TEXTURE_LABELS), _draw_textures_chunk)


SHAPE_LABELS = ("circle", "square", "triangle", "cross")
TEXTURE_LABELS = ("horizontal", "vertical", "checker", "dots")

BUILTIN_SETS: dict[str, BuiltinSet] = {
    "shapes": BuiltinSet(
        labels=SHAPE_LABELS,
        default_n=6000,
        draw=draw_shapes,
        description="a dark circle, square, triangle or cross on light, unevenly lit paper with clutter and noise",
    ),
    "textures": BuiltinSet(
        labels=TEXTURE_LABELS,
        default_n=2000,
        draw=draw_textures,
        description="horizontal or vertical stripes, a checkerboard or dots at random scale, tilt and contrast "
                    "(quick to learn: for short tests)",
    ),
    "photos": BuiltinSet(
        labels=PHOTO_LABELS,
        default_n=3000,
        draw=lambda n, shape, seed: draw_photos(n, shape, seed),
        description="ten object silhouettes with photographic textures on cluttered photo backgrounds, "
                    "varied pose, light, occlusion and size, JPEG-compressed (photo-like; harder than shapes)",
        channels=3,
    ),
}


def parse_builtin_spec(spec: str) -> tuple[str, dict[str, int]]:
    """'builtin:shapes?n=4000' → ('shapes', {'n': 4000}). Only `n` (the number of images) is a parameter."""
    rest = spec[len("builtin:"):]
    name, _, query = rest.partition("?")
    if name not in BUILTIN_SETS:
        raise UserError(f"unknown built-in data set {name!r} in {spec!r}: available: "
                        + ", ".join(f"builtin:{k}" for k in sorted(BUILTIN_SETS)))
    params: dict[str, int] = {}
    for item in filter(None, query.split("&")):
        key, sep, value = item.partition("=")
        if key != "n" or not sep:
            raise UserError(f"bad parameter {item!r} in {spec!r}: the only parameter is n=<number of images>")
        try:
            params["n"] = int(value)
        except ValueError:
            raise UserError(f"bad parameter {item!r} in {spec!r}: n must be a whole number") from None
    return name, params


def load_builtin(spec: str, input_shape: tuple[int, int, int], seed: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Generate the set named by `spec`: (labels, uint8 images, int32 label ids)."""
    name, params = parse_builtin_spec(spec)
    data_set = BUILTIN_SETS[name]
    n = params.get("n", data_set.default_n)
    minimum = 2 * len(data_set.labels)
    if n < minimum:
        raise UserError(f"{spec!r}: n={n} is too small: at least {minimum} images (two per class) are needed")
    x, y = data_set.draw(n, input_shape, seed)
    return list(data_set.labels), x, y
