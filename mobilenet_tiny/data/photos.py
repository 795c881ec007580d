"""`builtin:photos`: a generated, photo-like 10-class set, harder than `shapes` and shaped like a user's
folder of camera pictures.

Each image is a scene built from real photographs (the sample photos bundled in scikit-image's and
matplotlib's wheels: an astronaut, a cat, coffee, a rocket, motorcycles, brick, grass, gravel, a portrait…):

- a background cropped from a random photo at a random scale, flipped, colour-shifted;
- clutter behind the object: blobs and sticks cut from other photos;
- the object: one of ten silhouettes (arrow, ball, crescent, fish, heart, house, plus, ring, star,
  triangle) filled with a photographic texture and tinted, lit from a random side, with a drop shadow, at a
  random position, size, stretch and rotation (±45°, mirrored at random); as with real objects, each class
  has a typical colour and surface that a fifth of its images do not have;
- now and then an occluder in front of it (a photo patch or a stick);
- uneven light (gradient, vignette, a colour cast, gamma), a little blur, sensor noise;
- a random source size and aspect ratio (72–200 px a side, 3:5 to 5:3), JPEG-compressed at a random
  quality (25–95), which is what a user's folder holds.

`photo_jpeg(seed, index)` makes one image as JPEG bytes; the folder writer (`write_photo_folder`) saves those
bytes, and `builtin:photos` decodes the same bytes through the folder loader's own crop/resize path, so the
built-in set and a folder written from it give identical pixels. Every image depends only on (seed, index):
images can be drawn in any order, in threads, and a set of n images is a prefix of a set of n + k.
"""
import functools
import io
import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from ..errors import UserError

PHOTO_LABELS = ("arrow", "ball", "crescent", "fish", "heart", "house", "plus", "ring", "star", "triangle")

# Photographs (not drawings, micrographs or text) among the wheels' sample images.
_SKIMAGE_PHOTOS = ("astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png", "coins.png",
                   "grass.png", "gravel.png", "hubble_deep_field.jpg", "ihc.png", "moon.png",
                   "motorcycle_left.png", "motorcycle_right.png", "retina.jpg", "rocket.jpg")
_MATPLOTLIB_PHOTOS = ("grace_hopper.jpg",)
_MAX_PHOTO_SIDE = 480  # photos are shrunk once to this: crops of them are resized to ≤ 200 px anyway


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)  # finds the wheel without importing it (skimage imports slowly)
    return Path(spec.origin).parent if spec and spec.origin else None


@functools.lru_cache(maxsize=1)
def source_photos() -> tuple[Image.Image, ...]:
    """The bundled photographs as RGB images (gray ones stay gray in all three channels)."""
    paths = []
    skimage = _package_dir("skimage")
    if skimage is not None:
        paths += [skimage / "data" / name for name in _SKIMAGE_PHOTOS]
    matplotlib = _package_dir("matplotlib")
    if matplotlib is not None:
        paths += [matplotlib / "mpl-data" / "sample_data" / name for name in _MATPLOTLIB_PHOTOS]
    photos = []
    for path in paths:
        if path.is_file():
            with Image.open(path) as image:
                image = image.convert("RGB")
                image.thumbnail((_MAX_PHOTO_SIDE, _MAX_PHOTO_SIDE), Image.Resampling.LANCZOS)
                photos.append(image)
    if len(photos) < 8:
        raise UserError("builtin:photos needs the sample photos bundled with scikit-image "
                        "(pip install scikit-image): found only "
                        f"{len(photos)} of {len(_SKIMAGE_PHOTOS) + len(_MATPLOTLIB_PHOTOS)}")
    return tuple(photos)


# ------------------------------------------------------------------------------------------ silhouettes
def _polygon_distance(px: np.ndarray, py: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Signed distance (negative inside) from points to a closed polygon, by its edges and an even-odd test."""
    d2 = np.full(px.shape, np.inf, dtype=np.float32)
    inside = np.zeros(px.shape, dtype=bool)
    for (ax, ay), (bx, by) in zip(vertices, np.roll(vertices, -1, axis=0)):
        ex, ey = bx - ax, by - ay
        t = np.clip(((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
        d2 = np.minimum(d2, (px - ax - t * ex) ** 2 + (py - ay - t * ey) ** 2)
        crosses = ((ay > py) != (by > py)) & (px < ax + (py - ay) * ex / (ey if ey else 1e-9))
        inside ^= crosses
    return np.where(inside, -1.0, 1.0).astype(np.float32) * np.sqrt(d2)


def _regular(n: int, radius: float, phase: float = np.pi / 2) -> np.ndarray:
    t = phase + 2 * np.pi * np.arange(n) / n
    return np.stack([radius * np.cos(t), radius * np.sin(t)], axis=1)


def _star() -> np.ndarray:
    outer, inner = _regular(5, 1.0), _regular(5, 0.42, np.pi / 2 + np.pi / 5)
    return np.stack([outer, inner], axis=1).reshape(-1, 2)


def _heart() -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    x = 16 * np.sin(t) ** 3
    y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
    return np.stack([x, y + 2.5], axis=1) / 17.0


# Vertices in object units, y up; each shape spans about [-1, 1].
_POLYGONS = {
    "arrow": np.array([[-1.0, 0.22], [0.15, 0.22], [0.15, 0.6], [1.0, 0.0], [0.15, -0.6], [0.15, -0.22],
                       [-1.0, -0.22]]),
    "house": np.array([[-0.75, -0.9], [0.75, -0.9], [0.75, 0.15], [0.0, 0.95], [-0.75, 0.15]]),
    "plus": np.array([[-0.3, 0.95], [0.3, 0.95], [0.3, 0.3], [0.95, 0.3], [0.95, -0.3], [0.3, -0.3], [0.3, -0.95],
                      [-0.3, -0.95], [-0.3, -0.3], [-0.95, -0.3], [-0.95, 0.3], [-0.3, 0.3]]),
    "star": _star(),
    "triangle": _regular(3, 1.0) + [0.0, -0.15],
    "heart": _heart(),
    "fish_tail": np.array([[0.45, 0.0], [1.0, 0.55], [1.0, -0.55]]),
}


def silhouette_distance(label: str, px: np.ndarray, py: np.ndarray) -> np.ndarray:
    """Signed distance to the class's silhouette in object units (points px, py with y up)."""
    if label == "ball":
        return np.hypot(px, py) - 0.9
    if label == "ring":
        return np.abs(np.hypot(px, py) - 0.68) - 0.24
    if label == "crescent":
        return np.maximum(np.hypot(px, py) - 0.95, 0.72 - np.hypot(px - 0.45, py - 0.2))
    if label == "fish":
        body = (np.hypot(px / 0.62 + 0.35, py / 0.42) - 1.0) * 0.42  # an ellipse, roughly its distance
        return np.minimum(body, _polygon_distance(px, py, _POLYGONS["fish_tail"]))
    return _polygon_distance(px, py, _POLYGONS[label])


# ----------------------------------------------------------------------------------------------- scenes
def _crop(rng: np.random.Generator, photos, w: int, h: int, min_scale: float = 0.2) -> np.ndarray:
    """A random crop of a random photo with aspect w:h, resized to w×h, maybe mirrored: float32 [0, 1]."""
    photo = photos[rng.integers(len(photos))]
    pw, ph = photo.size
    scale = rng.uniform(min_scale, 1.0)
    cw = min(pw, ph * w / h) * scale
    ch = cw * h / w
    x0, y0 = rng.uniform(0, pw - cw), rng.uniform(0, ph - ch)
    patch = photo.resize((w, h), Image.Resampling.BILINEAR, box=(x0, y0, x0 + cw, y0 + ch))
    pixels = np.asarray(patch, dtype=np.float32) / 255.0
    return pixels[:, ::-1] if rng.uniform() < 0.5 else pixels


def _colour_shift(rng: np.random.Generator, pixels: np.ndarray, strength: float) -> np.ndarray:
    """Per-channel gains and a saturation change (gray photos gain colour too, through the gains)."""
    gray = pixels.mean(axis=-1, keepdims=True)
    saturation = rng.uniform(1 - strength, 1 + strength)
    gains = rng.uniform(1 - strength, 1 + strength, 3).astype(np.float32)
    return (gray + (pixels - gray) * saturation) * gains


def _hue_rgb(hue: float, saturation: float, value: float) -> np.ndarray:
    """HSV → RGB (float32 in [0, 1]); hue in turns."""
    k = (np.array([5.0, 3.0, 1.0]) + (hue % 1.0) * 6) % 6
    return (value - value * saturation * np.clip(np.minimum(k, 4 - k), 0, 1)).astype(np.float32)


def _blend(canvas: np.ndarray, layer: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return canvas * (1 - alpha[..., None]) + layer * alpha[..., None]


def _blob_alpha(rng: np.random.Generator, xs, ys, extent) -> np.ndarray:
    """An ellipse or a stick somewhere in the frame, soft-edged, as an alpha mask."""
    cx, cy = rng.uniform(-extent[0], extent[0]), rng.uniform(-extent[1], extent[1])
    theta = rng.uniform(0, np.pi)
    c, s = np.cos(theta), np.sin(theta)
    u, v = (xs - cx) * c + (ys - cy) * s, (ys - cy) * c - (xs - cx) * s
    if rng.uniform() < 0.6:
        a, b = rng.uniform(0.1, 0.45), rng.uniform(0.08, 0.3)
        d = (np.hypot(u / a, v / b) - 1.0) * min(a, b)
    else:
        length, width = rng.uniform(0.3, 1.2), rng.uniform(0.02, 0.07)
        d = np.hypot(np.maximum(np.abs(u) - length / 2, 0), v) - width
    return np.clip(0.5 - d / 0.02, 0.0, 1.0).astype(np.float32)


def photo_scene(seed: int, index: int, label: int) -> Image.Image:
    """Image `index` of the set drawn from `seed`, showing class `label`, at its own source size."""
    rng = np.random.default_rng([seed, index, 0x9407])
    photos = source_photos()
    aspect = np.exp(rng.uniform(np.log(0.6), np.log(1 / 0.6)))
    short = int(rng.integers(72, 161))
    w, h = (min(200, int(round(short * aspect))), short) if aspect >= 1 else (short, min(200, int(round(short / aspect))))
    half = min(w, h) / 2  # object units are fractions of the centred square's half side
    xs = (np.arange(w, dtype=np.float32)[None, :] - (w - 1) / 2) / half
    ys = ((h - 1) / 2 - np.arange(h, dtype=np.float32)[:, None]) / half  # y up
    extent = (w / 2 / half, h / 2 / half)
    pixel = 1.0 / half

    canvas = _colour_shift(rng, _crop(rng, photos, w, h), 0.35)
    for _ in range(rng.integers(0, 3)):  # clutter behind the object
        alpha = _blob_alpha(rng, xs, ys, extent) * rng.uniform(0.5, 1.0)
        canvas = _blend(canvas, _colour_shift(rng, _crop(rng, photos, w, h), 0.5), alpha)

    # The object: pose, then a tinted photographic texture, side light and a drop shadow. Like real
    # objects, a class has a typical colour and surface (its own hue, two favourite texture photos), which
    # a quarter of its images do not follow: the silhouette is the only cue that always holds.
    name = PHOTO_LABELS[label]
    size = rng.uniform(0.45, 0.75)
    stretch = np.exp(rng.uniform(-0.2, 0.2))
    cx, cy = rng.uniform(-1, 1, 2) * np.maximum(0.0, 1.0 - size) * 0.6
    theta = np.deg2rad(rng.uniform(-45, 45))
    mirror = -1.0 if rng.uniform() < 0.5 else 1.0
    c, s = np.cos(theta), np.sin(theta)
    ox, oy = xs - cx, ys - cy
    u = mirror * (ox * c + oy * s) / size * stretch
    v = (oy * c - ox * s) / size / stretch
    distance = silhouette_distance(name, u, v) * size  # back to frame units (approximately)
    coverage = np.clip(0.5 - distance / pixel, 0.0, 1.0)

    # A soft shadow: the silhouette's blurred mask, moved a few pixels away from the light.
    shadow = np.clip(0.5 - distance / 0.06, 0.0, 1.0) * rng.uniform(0.3, 0.6)
    dx, dy = (rng.integers(2, 6, 2) * rng.choice([-1, 1], 2) * half / 48).astype(int)
    shadow = np.roll(shadow, (dy, dx), axis=(0, 1))
    canvas = canvas * (1 - shadow[..., None])

    typical = rng.uniform() < 0.8
    hue = (label / len(PHOTO_LABELS) + rng.normal(0, 0.03)) if typical else rng.uniform()
    tint = _hue_rgb(hue, rng.uniform(0.45, 1.0), rng.uniform(0.55, 1.0)) * 1.5
    favourite = (2 * label + rng.integers(2)) % len(photos)
    crop = _crop(rng, photos[favourite:favourite + 1] if typical else photos, w, h)
    keep = rng.uniform(0.0, 0.4)  # how much of the photo's own colour survives the tint
    texture = (1 - keep) * crop.mean(axis=-1, keepdims=True) * tint + keep * crop
    light = rng.uniform(0, 2 * np.pi)
    shade = 0.8 + 0.35 * np.clip(u * np.cos(light) + v * np.sin(light), -1, 1) \
        + 0.25 * np.clip(-distance / (0.25 * size), 0, 1)
    canvas = _blend(canvas, np.clip(texture * shade[..., None], 0, 1.2), coverage)

    if rng.uniform() < 0.3:  # an occluder in front
        alpha = _blob_alpha(rng, xs * 0.7 + cx, ys * 0.7 + cy, (0.5, 0.5))
        canvas = _blend(canvas, _colour_shift(rng, _crop(rng, photos, w, h), 0.5), alpha)

    # Light: a gradient, a vignette, a colour cast and a gamma.
    g = rng.uniform(0, 2 * np.pi)
    illumination = 1.0 + rng.uniform(0, 0.35) * (xs * np.cos(g) + ys * np.sin(g)) / max(extent)
    illumination -= rng.uniform(0, 0.35) * (xs ** 2 + ys ** 2) / (extent[0] ** 2 + extent[1] ** 2)
    cast = np.exp(rng.uniform(-0.15, 0.15, 3)).astype(np.float32)
    canvas = np.clip(canvas * illumination[..., None] * cast * rng.uniform(0.6, 1.25), 0, 1)
    canvas = canvas ** rng.uniform(0.75, 1.35)

    image = Image.fromarray(np.clip(np.rint(canvas * 255), 0, 255).astype(np.uint8), "RGB")
    if rng.uniform() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.1)))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, rng.uniform(1, 8), (h, w, 3)).astype(np.float32)
    return Image.fromarray(np.clip(np.rint(noisy), 0, 255).astype(np.uint8), "RGB")


def photo_labels(n: int, seed: int, classes: int = len(PHOTO_LABELS)) -> np.ndarray:
    """Balanced, shuffled class ids (of the first `classes` classes) of a set of n images."""
    labels = np.arange(n, dtype=np.int32) % classes
    np.random.default_rng([seed, 0x9407]).shuffle(labels)
    return labels


def photo_jpeg(seed: int, index: int, label: int) -> bytes:
    """Image `index` as the JPEG file a camera folder would hold (quality 25–95, 4:2:0)."""
    quality = int(np.random.default_rng([seed, index, 0x1BE6]).integers(25, 96))
    buffer = io.BytesIO()
    photo_scene(seed, index, label).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _parallel(fn, items):
    with ThreadPoolExecutor(max_workers=2) as pool:  # numpy and Pillow release the GIL in the heavy parts
        return list(pool.map(fn, items))


def draw_photos(n: int, input_shape: tuple[int, int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n images (uint8 N×H×W×C) and labels of `builtin:photos`, decoded from their JPEG bytes the way image
    folders are (centre crop to the input's aspect, bilinear resize, gray through ITU-R 601 luma)."""
    from .folders import fit_image

    labels = photo_labels(n, seed)

    def one(i):
        with Image.open(io.BytesIO(photo_jpeg(seed, i, int(labels[i])))) as image:
            return fit_image(image, input_shape)

    x = np.stack(_parallel(one, range(n))) if n else np.zeros((0, *input_shape), np.uint8)
    return x, labels


def write_photo_folder(root, n: int, seed: int = 0, classes: int = len(PHOTO_LABELS)) -> list[Path]:
    """Write the set (or its first `classes` classes) as root/<class>/<index>.jpg, what a user's folder looks
    like; returns the files."""
    root = Path(root)
    labels = photo_labels(n, seed, classes)
    for name in PHOTO_LABELS[:classes]:
        (root / name).mkdir(parents=True, exist_ok=True)

    def one(i):
        path = root / PHOTO_LABELS[labels[i]] / f"{i:05d}.jpg"
        path.write_bytes(photo_jpeg(seed, i, int(labels[i])))
        return path

    return _parallel(one, range(n))
