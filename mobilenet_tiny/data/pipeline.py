"""uint8 arrays → tf.data pipelines of float32 images in [0, 1] (pixels / 255, the model's input scale).

Training batches are shuffled and lightly augmented (horizontal flip, brightness, contrast, a random crop of
85–100 % of each side resized back); validation batches are neither. Every random choice comes from a
stateless op whose seed is drawn from `tf.data.Dataset.random(seed)`, re-drawn each epoch: the stream of
batches depends only on `seed`, even with the augmentation running in parallel threads.
"""
import numpy as np

from ..errors import UserError
from ..tf_env import tf

MAX_BRIGHTNESS_DELTA = 0.1  # in [0, 1] pixel units
CONTRAST_RANGE = (0.8, 1.25)
MIN_CROP_FRACTION = 0.85  # of height and of width


def _augment(image, label, seeds):
    """One training image (float32 H×W×C in [0, 1]) with random flip, brightness, contrast and crop."""
    h, w = tf.shape(image)[0], tf.shape(image)[1]
    seeds = tf.reshape(seeds, [5, 2])
    image = tf.image.stateless_random_flip_left_right(image, seeds[0])
    image = tf.image.stateless_random_brightness(image, MAX_BRIGHTNESS_DELTA, seeds[1])
    image = tf.image.stateless_random_contrast(image, *CONTRAST_RANGE, seeds[2])
    # A crop box of random size (same fraction on both sides, so no stretching) and position, resized back
    # to H×W in one bilinear op.
    fraction = tf.random.stateless_uniform([], seeds[3], MIN_CROP_FRACTION, 1.0)
    corner = tf.random.stateless_uniform([2], seeds[4], 0.0, 1.0) * (1.0 - fraction)
    box = tf.concat([corner, corner + fraction], axis=0)[None]  # [y1, x1, y2, x2], normalised
    image = tf.image.crop_and_resize(image[None], box, [0], tf.stack([h, w]), method="bilinear")[0]
    return tf.clip_by_value(image, 0.0, 1.0), label


def _to_float(image, label):
    return tf.cast(image, tf.float32) / 255.0, label


def to_tf_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, *, training: bool, seed: int = 0):
    """A tf.data.Dataset of (float32 images N×H×W×C in [0, 1], int32 labels) batches.

    training=True: reshuffled every epoch and augmented, both seeded by `seed` (same seed → same batches,
    epoch after epoch, on CPU). training=False: in order, unchanged.

    There is no `cache()`: the images are already decoded into memory (by `load_data`), which is what a cache
    would give a file-reading pipeline; caching here would only add a second copy (four times larger as
    float32). The uint8 → float cast is done per batch, next to the augmentation, and prefetched.
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype != np.uint8 or x.ndim != 4:
        raise UserError(f"images must be uint8 N×H×W×C, got {x.dtype} with shape {x.shape}")
    if y.shape != (x.shape[0],):
        raise UserError(f"labels must have shape ({x.shape[0]},), got {y.shape}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise UserError(f"batch size {batch_size!r} must be a positive whole number")
    dataset = tf.data.Dataset.from_tensor_slices((x, y.astype(np.int32)))
    if not training:
        return dataset.map(_to_float).batch(batch_size).prefetch(tf.data.AUTOTUNE)
    dataset = dataset.shuffle(max(1, len(x)), seed=seed, reshuffle_each_iteration=True).map(_to_float)
    # 10 int64 per image = five seed pairs for the stateless ops, a fresh stream each epoch.
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(10)
    dataset = tf.data.Dataset.zip(dataset, seeds).map(lambda xy, s: _augment(*xy, s),
                                                      num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)
