"""Built-in generated sets: shapes, dtypes, balance, determinism, resolution and channels, spec errors."""
import time

import numpy as np
import pytest

from mobilenet_tiny.data import BUILTIN_DEFAULT, BUILTIN_SETS, load_data
from mobilenet_tiny.data.builtin import SHAPE_LABELS, draw_shapes
from mobilenet_tiny.errors import UserError


def test_default_spec_names_a_set():
    assert BUILTIN_DEFAULT.startswith("builtin:") and BUILTIN_DEFAULT[len("builtin:"):] in BUILTIN_SETS
    assert BUILTIN_SETS["shapes"].default_n >= 2000


@pytest.mark.parametrize("shape", [(96, 96, 1), (32, 48, 3), (40, 24, 1)])
def test_shapes_dtypes_and_split(shape):
    data = load_data("builtin:shapes?n=80", shape, val_split=0.25, seed=0)
    assert data.labels == list(SHAPE_LABELS)
    assert data.input_shape == shape
    assert data.train_x.shape == (60, *shape) and data.val_x.shape == (20, *shape)
    assert data.train_x.dtype == data.val_x.dtype == np.uint8
    assert data.train_y.dtype == data.val_y.dtype == np.int32
    assert np.bincount(data.train_y).tolist() == [15] * 4 and np.bincount(data.val_y).tolist() == [5] * 4
    assert data.source == "builtin:shapes?n=80"


def test_default_size():
    data = load_data(BUILTIN_DEFAULT, (32, 32, 1))
    assert len(data.train_x) + len(data.val_x) == BUILTIN_SETS["shapes"].default_n


def test_deterministic_for_a_seed_and_different_across_seeds():
    a = load_data("builtin:shapes?n=40", (32, 32, 1), seed=5)
    b = load_data("builtin:shapes?n=40", (32, 32, 1), seed=5)
    c = load_data("builtin:shapes?n=40", (32, 32, 1), seed=6)
    assert np.array_equal(a.train_x, b.train_x) and np.array_equal(a.val_y, b.val_y)
    assert not np.array_equal(a.train_x, c.train_x)


def test_chunking_does_not_change_images():
    # More images than one drawing chunk: the first chunk's images are the same whatever n is.
    small, small_y = draw_shapes(300, (32, 32, 1), seed=1)
    large, large_y = draw_shapes(600, (32, 32, 1), seed=1)
    assert len(large) == 600 and (np.bincount(large_y) == 150).all()
    same_labels = small_y[:256] == large_y[:256]
    assert np.array_equal(small[:256][same_labels], large[:256][same_labels])


def test_images_are_not_trivial():
    x, y = draw_shapes(200, (48, 48, 1), seed=0)
    # Varied: no two images equal, a wide range of pixel values, brightness varies from image to image.
    assert len({im.tobytes() for im in x}) == 200
    assert x.min() < 30 and x.max() > 225
    assert x.reshape(200, -1).mean(axis=1).std() > 20
    # Not given away by mean brightness alone: class means of the image means lie close together.
    class_means = [x[y == k].mean() for k in range(4)]
    assert max(class_means) - min(class_means) < 15


def test_gray_is_the_luma_of_rgb():
    gray, _ = draw_shapes(16, (32, 32, 1), seed=2)
    rgb, _ = draw_shapes(16, (32, 32, 3), seed=2)
    assert (rgb.std(axis=-1) > 5).mean() > 0.5  # coloured, not gray in three channels
    # Noise and chroma clipping differ between the two, but the scene is the same.
    luma = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114])
    assert np.abs(luma - gray[..., 0]).mean() < 12


def test_two_thousand_images_at_96_are_fast():
    start = time.perf_counter()
    x, _ = draw_shapes(2000, (96, 96, 1), seed=0)
    elapsed = time.perf_counter() - start
    assert x.shape == (2000, 96, 96, 1)
    assert elapsed < 20  # about 2 s on an idle core; generous for a shared CI machine


@pytest.mark.parametrize("spec, fragment", [
    ("builtin:nope", "unknown built-in data set 'nope'"),
    ("builtin:", "unknown built-in data set ''"),
    ("builtin:shapes?n=abc", "n must be a whole number"),
    ("builtin:shapes?size=3", "the only parameter is n"),
    ("builtin:shapes?n", "the only parameter is n"),
    ("builtin:shapes?n=7", "n=7 is too small"),
])
def test_bad_specs(spec, fragment):
    with pytest.raises(UserError) as caught:
        load_data(spec, (32, 32, 1))
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_val_dir_is_refused_with_builtin(tmp_path):
    with pytest.raises(UserError, match="cannot be combined with built-in data"):
        load_data("builtin:shapes?n=40", (32, 32, 1), val_dir=str(tmp_path))


def test_bad_channels():
    with pytest.raises(UserError, match="channels must be 1"):
        load_data("builtin:shapes?n=40", (32, 32, 4))
