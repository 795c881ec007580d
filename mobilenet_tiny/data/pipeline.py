"""uint8 arrays → tf.data pipelines of float32 images in [0, 1] (pixels / 255, the model's input scale).

Training batches are shuffled and augmented — `light` (the default): horizontal flip, brightness, contrast,
a random crop of 85–100 % of each side resized back; `strong`: wider ranges, aspect changes, rotation,
saturation and hue; `none` — validation batches are neither. Every random choice comes from a
stateless op whose seed is drawn from `tf.data.Dataset.random(seed)`, re-drawn each epoch: the stream of
batches depends only on `seed`, even with the augmentation running in parallel threads.
"""
import numpy as np

from ..errors import UserError
from ..tf_env import tf
from . import AUGMENT_LEVELS

MAX_BRIGHTNESS_DELTA = 0.1  # in [0, 1] pixel units (light)
CONTRAST_RANGE = (0.8, 1.25)
MIN_CROP_FRACTION = 0.85  # of height and of width
_SEED_PAIRS = 8  # stateless seeds drawn per image


def _crop_resize(image, seed_size, seed_corner, min_fraction, aspect_jitter=0.0, seed_aspect=None):
    """A crop box of random size and position resized back to H×W in one bilinear op. The same fraction on
    both sides (no stretching) unless aspect_jitter lets them differ by up to that factor."""
    h, w = tf.shape(image)[0], tf.shape(image)[1]
    fraction = tf.random.stateless_uniform([], seed_size, min_fraction, 1.0)
    if aspect_jitter:
        ratio = tf.exp(tf.random.stateless_uniform([], seed_aspect, -aspect_jitter, aspect_jitter))
        size = tf.minimum(tf.stack([fraction * tf.sqrt(ratio), fraction / tf.sqrt(ratio)]), 1.0)
    else:
        size = tf.stack([fraction, fraction])
    corner = tf.random.stateless_uniform([2], seed_corner, 0.0, 1.0) * (1.0 - size)
    box = tf.concat([corner, corner + size], axis=0)[None]  # [y1, x1, y2, x2], normalised
    return tf.image.crop_and_resize(image[None], box, [0], tf.stack([h, w]), method="bilinear")[0]


def _rotate(image, seed, max_degrees):
    """Rotate by a random angle about the centre, reflecting at the borders (no black corners)."""
    h, w = tf.cast(tf.shape(image)[0], tf.float32), tf.cast(tf.shape(image)[1], tf.float32)
    angle = tf.random.stateless_uniform([], seed, -max_degrees, max_degrees) * (3.141592653589793 / 180.0)
    cos, sin = tf.cos(angle), tf.sin(angle)
    # Output pixel (x, y) samples input (a0 x + a1 y + a2, b0 x + b1 y + b2): a rotation about the centre.
    x0, y0 = (w - 1) / 2, (h - 1) / 2
    transform = tf.stack([cos, -sin, x0 - cos * x0 + sin * y0, sin, cos, y0 - sin * x0 - cos * y0, 0.0, 0.0])
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=image[None], transforms=transform[None], output_shape=tf.shape(image)[:2], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="REFLECT")[0]


def _augment_light(image, seeds, flip: bool):
    """Flip, brightness ±0.1, contrast ×0.8–1.25, a crop of 85–100 % of each side resized back."""
    if flip:
        image = tf.image.stateless_random_flip_left_right(image, seeds[0])
    image = tf.image.stateless_random_brightness(image, MAX_BRIGHTNESS_DELTA, seeds[1])
    image = tf.image.stateless_random_contrast(image, *CONTRAST_RANGE, seeds[2])
    return _crop_resize(image, seeds[3], seeds[4], MIN_CROP_FRACTION)


def _augment_strong(image, seeds, flip: bool):
    """Light's changes, wider (brightness ±0.2, contrast ×0.6–1.6, crops of 60–100 % with the aspect
    changed by up to ±20 %), plus a rotation of up to ±15° and, for colour, saturation ×0.6–1.6 and hue
    ±0.04 turn."""
    if flip:
        image = tf.image.stateless_random_flip_left_right(image, seeds[0])
    image = tf.image.stateless_random_brightness(image, 0.2, seeds[1])
    image = tf.image.stateless_random_contrast(image, 0.6, 1.6, seeds[2])
    if image.shape[-1] == 3:
        image = tf.image.stateless_random_saturation(image, 0.6, 1.6, seeds[5])
        image = tf.image.stateless_random_hue(image, 0.04, seeds[6])
    image = _rotate(tf.clip_by_value(image, 0.0, 1.0), seeds[7], 15.0)
    return _crop_resize(image, seeds[3], seeds[4], 0.6, aspect_jitter=0.2, seed_aspect=seeds[5] + 1)


def _augment(image, label, seeds, level: str = "light", flip: bool = True):
    """One training image (float32 H×W×C in [0, 1]) changed at random as `level` says."""
    seeds = tf.reshape(seeds, [_SEED_PAIRS, 2])
    image = (_augment_strong if level == "strong" else _augment_light)(image, seeds, flip)
    return tf.clip_by_value(image, 0.0, 1.0), label


def _to_float(image, label):
    return tf.cast(image, tf.float32) / 255.0, label


def _load_streamed(x):
    """index → uint8 image of a StreamedImages, through tf.numpy_function (the reader is Python: Pillow's
    decoder, or a pread from the cache; both release the GIL for the heavy part)."""
    h, w, c = x.input_shape

    def load(position):
        image = tf.numpy_function(x.load, [position], tf.uint8, stateful=False)
        image.set_shape((h, w, c))
        return image

    return load


def to_tf_dataset(x, y: np.ndarray, batch_size: int, *, training: bool, seed: int = 0,
                  augment: str = "light", flip: bool = True, shard: tuple[int, int] | None = None,
                  class_weight: dict | None = None):
    """A tf.data.Dataset of (float32 images N×H×W×C in [0, 1], int32 labels) batches.

    training=True: reshuffled every epoch and augmented (`augment` none, light or strong; `flip` False for
    data where mirror images mean something else, such as digits and text), both seeded by `seed` (same
    seed → same batches, epoch after epoch, on CPU). training=False: in order, unchanged.

    `x` is a uint8 array, or a data.stream.StreamedImages (images read from their files or a cache when a
    batch needs them): the same seed gives the same batches, byte for byte, either way — the streamed
    pipeline shuffles image indices with the seed and buffer the in-memory one shuffles images with.

    `shard` = (count, index): this input pipeline's share of every global batch, for distributed training
    (tf.distribute's `input_context`): each element keeps its place in the shuffled stream and its
    augmentation seeds, then every count-th one is kept, so the pipelines together see exactly the
    elements one pipeline would, and `batch_size` is then the per-replica batch. `class_weight` ({label:
    weight}) adds each image's weight as a third element (what Keras' `fit(class_weight=...)` does to a
    plain dataset, and cannot do to a distributed one).

    There is no `cache()`: in-memory images are already decoded (what a cache would give a file-reading
    pipeline; caching here would only add a second copy, four times larger as float32), and streamed
    data has its own cache of decoded images (data/stream.py). The uint8 → float cast is done per image,
    next to the augmentation, and prefetched.
    """
    from .stream import StreamedImages

    streamed = isinstance(x, StreamedImages)
    if not streamed:
        x = np.asarray(x)
    y = np.asarray(y)
    if x.dtype != np.uint8 or x.ndim != 4:
        raise UserError(f"images must be uint8 N×H×W×C, got {x.dtype} with shape {x.shape}")
    if y.shape != (x.shape[0],):
        raise UserError(f"labels must have shape ({x.shape[0]},), got {y.shape}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise UserError(f"batch size {batch_size!r} must be a positive whole number")
    if training and augment not in AUGMENT_LEVELS:
        raise UserError(f"unknown augmentation {augment!r}: choose one of {', '.join(AUGMENT_LEVELS)}")
    n = len(x)
    if streamed:
        labels = tf.constant(y.astype(np.int32))
        load = _load_streamed(x)
        dataset = tf.data.Dataset.range(n)
        to_pair = lambda i: (load(i), tf.gather(labels, i))  # noqa: E731
    else:
        dataset = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32)))
        to_pair = None
    if training:
        dataset = dataset.shuffle(max(1, n), seed=seed, reshuffle_each_iteration=True)
    augmenting = training and augment != "none"
    if augmenting:
        # Eight seed pairs (16 int64) per image for the stateless ops, a fresh stream each epoch.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2 * _SEED_PAIRS)
        dataset = tf.data.Dataset.zip(dataset, seeds)
    if shard is not None and shard[0] > 1:
        dataset = dataset.shard(*shard)
    parallel = dict(num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if streamed:  # index (, seeds) → (image, label) (, seeds)
        dataset = dataset.map((lambda i, s: (to_pair(i), s)) if augmenting else to_pair, **parallel)
    if augmenting:
        dataset = dataset.map(lambda pair, s: _augment(*_to_float(*pair), s, augment, flip), **parallel)
    else:
        dataset = dataset.map(_to_float)
    if class_weight is not None:
        weights = tf.constant([float(class_weight[i]) for i in range(len(class_weight))], tf.float32)
        dataset = dataset.map(lambda image, label: (image, label, tf.gather(weights, label)))
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def measure_images_per_second(dataset, *, max_seconds: float = 10.0, max_batches: int | None = None,
                              warmup_batches: int = 1) -> tuple[float, int]:
    """(images/s, images counted) of iterating `dataset` alone — the input pipeline without a model —
    after `warmup_batches` (the first batches pay for starting the threads), for at most `max_seconds`."""
    import time

    count, start = 0, None
    for i, element in enumerate(dataset):
        images = element[0]
        if i == warmup_batches:
            start = time.perf_counter()
        elif i > warmup_batches:
            count += int(images.shape[0])
        if start is not None and (time.perf_counter() - start > max_seconds
                                  or (max_batches is not None and i - warmup_batches >= max_batches)):
            break
    if start is None or count == 0:
        return float("nan"), 0
    return count / (time.perf_counter() - start), count
