"""to_tf_dataset: scaling, batching, seeded shuffle and augmentation, validation left untouched."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mobilenet_tiny.data import to_tf_dataset
from mobilenet_tiny.data.builtin import draw_shapes
from mobilenet_tiny.errors import UserError


@pytest.fixture(scope="module")
def images():
    x, y = draw_shapes(40, (24, 32, 3), seed=0)
    return x, y


def epochs(dataset, count):
    """`count` passes over the dataset, as numpy (images, labels) per epoch."""
    out = []
    for _ in range(count):
        xs, ys = zip(*[(bx.numpy(), by.numpy()) for bx, by in dataset])
        out.append((np.concatenate(xs), np.concatenate(ys)))
    return out


def test_validation_is_pixels_over_255_in_order(images):
    x, y = images
    [(vx, vy)] = epochs(to_tf_dataset(x, y, 16, training=False), 1)
    assert vx.dtype == np.float32 and vy.dtype == np.int32
    assert vx.shape == (40, 24, 32, 3)
    assert np.array_equal(vx, x.astype(np.float32) / 255)  # exactly what the int8 input will encode
    assert np.array_equal(vy, y)
    batch_sizes = [len(bx) for bx, _ in to_tf_dataset(x, y, 16, training=False)]
    assert batch_sizes == [16, 16, 8]


def test_training_is_shuffled_augmented_and_keeps_pairs(images):
    x, y = images
    [(tx, ty)] = epochs(to_tf_dataset(x, y, 8, training=True, seed=0), 1)
    assert tx.shape == (40, 24, 32, 3) and tx.dtype == np.float32
    assert 0.0 <= tx.min() and tx.max() <= 1.0
    assert sorted(ty.tolist()) == sorted(y.tolist())
    assert not np.array_equal(ty, y)  # shuffled
    flat_in = x.reshape(40, -1).astype(np.float32) / 255
    assert not any(np.allclose(image, original) for image in tx.reshape(40, -1) for original in flat_in)


def test_labels_stay_with_their_images():
    # Uniform images whose gray level says the class (0.15, 0.4, 0.65, 0.9, ± 0.01): flip, crop and
    # contrast leave a uniform image as it is and brightness moves it by at most 0.1, less than half the
    # 0.25 between classes, so the level still says the class after augmentation.
    rng = np.random.default_rng(0)
    y = np.arange(64, dtype=np.int32) % 4
    levels = 0.15 + 0.25 * y + rng.uniform(-0.01, 0.01, 64)
    x = np.broadcast_to(np.rint(levels * 255).astype(np.uint8)[:, None, None, None], (64, 12, 12, 1)).copy()
    [(tx, ty)] = epochs(to_tf_dataset(x, y, 16, training=True, seed=2), 1)
    means = tx.reshape(64, -1).mean(axis=1)
    assert np.array_equal(np.rint((means - 0.15) / 0.25).astype(int), ty)
    shift = np.abs(means - (0.15 + 0.25 * ty))
    assert shift.max() <= 0.1 + 0.01 + 0.002
    assert shift.max() > 0.05  # brightness did change


def test_training_is_deterministic_for_a_seed_and_varies_by_epoch(images):
    x, y = images
    first = epochs(to_tf_dataset(x, y, 8, training=True, seed=3), 2)
    again = epochs(to_tf_dataset(x, y, 8, training=True, seed=3), 2)
    other = epochs(to_tf_dataset(x, y, 8, training=True, seed=4), 1)
    for (ax, ay), (bx, by) in zip(first, again):
        assert np.array_equal(ax, bx) and np.array_equal(ay, by)
    assert not np.array_equal(first[0][1], first[1][1])  # a new order each epoch
    assert not np.array_equal(first[0][0], other[0][0])


def test_augmentation_is_light(images):
    # Flip, ±0.1 brightness, 0.8–1.25 contrast, a crop of ≥ 85 % of each side: the mean brightness moves
    # little, and no image is left blank or saturated.
    x, y = images
    [(tx, _)] = epochs(to_tf_dataset(x, y, 40, training=True, seed=1), 1)
    [(vx, _)] = epochs(to_tf_dataset(x, y, 40, training=False), 1)
    assert abs(tx.mean() - vx.mean()) < 0.05
    assert (tx.reshape(40, -1).std(axis=1) > 0.02).all()


def _half_bright(n=32, shape=(16, 16, 3)):
    """Images dark on the left half, bright on the right: a mirror image shows at once."""
    x = np.zeros((n, *shape), np.uint8)
    x[:, :, shape[1] // 2:] = 220
    x[:, :, :shape[1] // 2] = 30
    return x, np.arange(n, dtype=np.int32) % 2


@pytest.mark.parametrize("level", ["light", "strong"])
def test_no_flip_never_mirrors(level):
    x, y = _half_bright()
    [(kept, _)] = epochs(to_tf_dataset(x, y, 32, training=True, seed=5, augment=level, flip=False), 1)
    [(flipped, _)] = epochs(to_tf_dataset(x, y, 32, training=True, seed=5, augment=level), 1)
    left, right = kept[:, :, :4].mean(axis=(1, 2, 3)), kept[:, :, -4:].mean(axis=(1, 2, 3))
    assert (left < right).all()
    f_left, f_right = flipped[:, :, :4].mean(axis=(1, 2, 3)), flipped[:, :, -4:].mean(axis=(1, 2, 3))
    assert 4 <= (f_left > f_right).sum() <= 28  # about half are mirrored when flips are on


def test_strong_augmentation_changes_more_and_stays_in_range(images):
    x = np.repeat(images[0][:1], 40, axis=0)  # one image, 40 times: every output compares with it
    y = np.zeros(40, np.int32)
    original = x[0].astype(np.float32) / 255
    change = {}
    for level in ("none", "light", "strong"):
        [(tx, _)] = epochs(to_tf_dataset(x, y, 40, training=True, seed=2, augment=level), 1)
        assert tx.shape == (40, *original.shape) and 0.0 <= tx.min() and tx.max() <= 1.0
        change[level] = float(np.abs(tx - original).mean())
    assert change["none"] == 0 < change["light"] < change["strong"]
    again = [epochs(to_tf_dataset(x, y, 40, training=True, seed=2, augment="strong"), 1)[0][0] for _ in range(2)]
    assert np.array_equal(*again)


@pytest.mark.parametrize("x, y, batch, fragment", [
    (np.zeros((4, 8, 8, 1), np.float32), np.zeros(4, np.int32), 2, "images must be uint8"),
    (np.zeros((4, 8, 8), np.uint8), np.zeros(4, np.int32), 2, "images must be uint8"),
    (np.zeros((4, 8, 8, 1), np.uint8), np.zeros(3, np.int32), 2, "labels must have shape"),
    (np.zeros((4, 8, 8, 1), np.uint8), np.zeros(4, np.int32), 0, "batch size"),
])
def test_bad_arrays(x, y, batch, fragment):
    with pytest.raises(UserError, match=fragment):
        to_tf_dataset(x, y, batch, training=True)


# Two fresh processes, each seeding TensorFlow as train.py does: the batches must match byte for byte.
DIGEST_SCRIPT = """
import hashlib
from mobilenet_tiny.data.builtin import draw_shapes
from mobilenet_tiny.data import to_tf_dataset
from mobilenet_tiny.tf_env import keras
keras.utils.set_random_seed(7)
x, y = draw_shapes(24, (16, 16, 1), seed=0)
digest = hashlib.sha256()
dataset = to_tf_dataset(x, y, 5, training=True, seed=11)
for _ in range(2):
    for bx, by in dataset:
        digest.update(bx.numpy().tobytes())
        digest.update(by.numpy().tobytes())
print(digest.hexdigest())
"""


def test_same_seed_same_batches_across_processes():
    root = Path(__file__).resolve().parents[2]

    def digest():
        done = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT], capture_output=True, text=True,
                              timeout=300, cwd=root)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip().splitlines()[-1]

    assert digest() == digest()
