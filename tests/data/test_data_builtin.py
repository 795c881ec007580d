"""Built-in generated sets: shapes, dtypes, balance, determinism, resolution and channels, spec errors."""
import time

import numpy as np
import pytest

from mobilenet_tiny.data import BUILTIN_DEFAULT, BUILTIN_SETS, load_data
from mobilenet_tiny.data.builtin import SHAPE_LABELS, TEXTURE_LABELS, ShapeStyle, draw_shapes, draw_textures
from mobilenet_tiny.errors import UserError


def test_default_spec_names_a_set():
    assert BUILTIN_DEFAULT.startswith("builtin:") and BUILTIN_DEFAULT[len("builtin:"):] in BUILTIN_SETS
    assert BUILTIN_SETS["shapes"].default_n >= 2000


@pytest.mark.parametrize("name", sorted(BUILTIN_SETS))
@pytest.mark.parametrize("shape", [(96, 96, 1), (32, 48, 3), (40, 24, 1)])
def test_shapes_dtypes_and_split(name, shape):
    data = load_data(f"builtin:{name}?n=80", shape, val_split=0.25, seed=0)
    k = len(BUILTIN_SETS[name].labels)
    assert data.labels == list(BUILTIN_SETS[name].labels) and k in (4, 10)
    assert data.input_shape == shape
    assert data.train_x.shape == (60, *shape) and data.val_x.shape == (20, *shape)
    assert data.train_x.dtype == data.val_x.dtype == np.uint8
    assert data.train_y.dtype == data.val_y.dtype == np.int32
    assert np.bincount(data.train_y).tolist() == [60 // k] * k and np.bincount(data.val_y).tolist() == [20 // k] * k
    assert data.source == f"builtin:{name}?n=80"


def test_default_size():
    data = load_data(BUILTIN_DEFAULT, (32, 32, 1))
    assert len(data.train_x) + len(data.val_x) == BUILTIN_SETS["shapes"].default_n


@pytest.mark.parametrize("name", sorted(BUILTIN_SETS))
def test_deterministic_for_a_seed_and_different_across_seeds(name):
    a = load_data(f"builtin:{name}?n=40", (32, 32, 1), seed=5)
    b = load_data(f"builtin:{name}?n=40", (32, 32, 1), seed=5)
    c = load_data(f"builtin:{name}?n=40", (32, 32, 1), seed=6)
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


def test_each_label_is_drawn_as_its_shape():
    # Without nuisances the shapes can be measured: area (in units of r²) and where the ink lies.
    plain = ShapeStyle(size=(0.5, 0.5), rotation=0.0, outline_fraction=0.0, background=(0.9, 0.9),
                       contrast=(0.6, 0.6), gradient=0.0, shading=0.0, clutter_probability=0.0, noise=(0.0, 0.0))
    x, y = draw_shapes(40, (128, 128, 1), seed=0, style=plain)
    pixel = 2 / 128
    for image, label in zip(x[..., 0].astype(np.float32) / 255, y):
        ink = (0.9 - image) / 0.6  # coverage of each pixel by the shape
        area = ink.sum() * pixel**2 / 0.5**2
        rows, cols = np.indices(ink.shape)
        cy, cx = (ink * rows).sum() / ink.sum(), (ink * cols).sum() / ink.sum()
        name = SHAPE_LABELS[label]
        expected = {"circle": np.pi, "square": 1.7**2, "triangle": 3 * np.sqrt(3) * 0.65**2,
                    "cross": 2 * 2.3 * 0.736 - 0.736**2}[name]
        assert area == pytest.approx(expected, rel=0.03), name
        corner = ink[int(round(cy + 0.35 / pixel)), int(round(cx + 0.35 / pixel))]  # 0.7 r along the diagonal
        if name == "square":
            assert corner > 0.99
        if name == "cross":
            assert corner < 0.01
        if name == "triangle":  # upright: the ink's centre of mass sits below the box's middle
            ink_rows = np.flatnonzero(ink.sum(axis=1) > 0.5)
            assert cy > (ink_rows[0] + ink_rows[-1]) / 2 + 2


def test_each_label_is_drawn_as_its_texture():
    x, y = draw_textures(80, (64, 64, 1), seed=0)
    image = x[..., 0].astype(np.float32)
    down = np.abs(np.diff(image, axis=1)).mean(axis=(1, 2))  # change from row to row: horizontal edges
    along = np.abs(np.diff(image, axis=2)).mean(axis=(1, 2))  # change from column to column: vertical edges
    names = np.array(TEXTURE_LABELS)[y]
    # Pixel noise changes both ways alike, so even faint stripes give a ratio of only ~1.3 at worst.
    ratio = down / along
    assert (ratio[names == "horizontal"] > 1.2).all() and np.median(ratio[names == "horizontal"]) > 2
    assert (ratio[names == "vertical"] < 1 / 1.2).all() and np.median(ratio[names == "vertical"]) < 1 / 2
    both = np.isin(names, ["checker", "dots"])
    assert (np.abs(np.log(ratio[both])) < np.log(1.15)).all()
    # Dots cover less of the frame than a checkerboard's half: the share of pixels on the light side of
    # halfway between each image's dark and light levels.
    def light_share(im):
        lo, hi = np.percentile(im, [5, 95])
        return (im > (lo + hi) / 2).mean()
    shares = np.array([light_share(im) for im in image])
    assert shares[names == "dots"].max() < shares[names == "checker"].min()
