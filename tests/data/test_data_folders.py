"""Image folders → ImageData: formats, modes, geometry, splits and every bad-input error."""
import numpy as np
import pytest
from PIL import Image

from mobilenet_tiny.data import load_data
from mobilenet_tiny.errors import UserError


def write_image(path, mode="RGB", size=(40, 30), value=128, fmt=None):
    """A uniform image of `value` in any Pillow mode and format (by suffix unless fmt is given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode in ("I;16",):
        image = Image.fromarray(np.full(size[::-1], value, dtype=np.uint16))
    else:
        image = Image.new(mode, size, value)
    image.save(path, format=fmt)
    return path


def make_folder(root, counts: dict[str, int], size=(40, 30), suffix=".png"):
    """root/<class>/<i>.png, uniform images whose gray value encodes (class index, image index)."""
    for k, (name, count) in enumerate(counts.items()):
        for i in range(count):
            write_image(root / name / f"{i:03d}{suffix}", "L", size, value=10 + 60 * k + i)
    return root


def test_labels_shapes_dtypes_and_split(tmp_path):
    make_folder(tmp_path, {"zebra": 10, "apple": 5, "mango": 7})
    data = load_data(str(tmp_path), (16, 24, 3), val_split=0.2, seed=0)
    assert data.labels == ["apple", "mango", "zebra"]  # sorted folder names, not creation order
    assert data.input_shape == (16, 24, 3)
    assert data.train_x.dtype == np.uint8 and data.val_x.dtype == np.uint8
    assert data.train_y.dtype == np.int32 and data.val_y.dtype == np.int32
    assert data.train_x.shape[1:] == data.val_x.shape[1:] == (16, 24, 3)
    assert len(data.train_x) + len(data.val_x) == 22
    # Stratified: round(0.2 · n) per class → apple 1, mango 1, zebra 2.
    assert np.bincount(data.val_y, minlength=3).tolist() == [1, 1, 2]
    assert np.bincount(data.train_y, minlength=3).tolist() == [4, 6, 8]
    assert data.source == str(tmp_path)


def test_pixels_match_their_labels(tmp_path):
    # Every image is uniform with a value that encodes its class: the split must keep pairs together.
    make_folder(tmp_path, {"a": 6, "b": 6})
    data = load_data(tmp_path, (8, 8, 1), val_split=0.5, seed=3)
    for x, y in [(data.train_x, data.train_y), (data.val_x, data.val_y)]:
        values = x.reshape(len(x), -1)
        assert (values == values[:, :1]).all()
        assert ((values[:, 0] - 10) // 60 == y).all()


def test_split_is_deterministic_and_seeded(tmp_path):
    make_folder(tmp_path, {"a": 20, "b": 20})
    first = load_data(tmp_path, (8, 8, 1), seed=1)
    again = load_data(tmp_path, (8, 8, 1), seed=1)
    other = load_data(tmp_path, (8, 8, 1), seed=2)
    assert np.array_equal(first.val_x, again.val_x) and np.array_equal(first.train_x, again.train_x)
    assert not np.array_equal(first.val_x, other.val_x)


def test_every_class_with_two_images_gets_a_validation_image(tmp_path):
    make_folder(tmp_path, {"a": 2, "b": 3, "c": 1, "d": 40})
    data = load_data(tmp_path, (8, 8, 1), val_split=0.05, seed=0)
    val_counts = np.bincount(data.val_y, minlength=4).tolist()
    train_counts = np.bincount(data.train_y, minlength=4).tolist()
    assert val_counts == [1, 1, 0, 2]  # c has a single image: it stays in training
    assert train_counts == [1, 2, 1, 38]


def test_zero_val_split_keeps_everything_for_training(tmp_path):
    make_folder(tmp_path, {"a": 3, "b": 3})
    data = load_data(tmp_path, (8, 8, 3), val_split=0.0)
    assert len(data.train_x) == 6
    assert data.val_x.shape == (0, 8, 8, 3) and data.val_y.shape == (0,)


def test_val_dir_is_the_validation_set(tmp_path):
    make_folder(tmp_path / "train", {"a": 4, "b": 4})
    make_folder(tmp_path / "val", {"a": 2, "b": 1})
    data = load_data(tmp_path / "train", (8, 8, 1), val_dir=str(tmp_path / "val"))
    assert len(data.train_x) == 8
    assert data.val_y.tolist() == [0, 0, 1]


@pytest.mark.parametrize("mode, suffix, value, expected_gray", [
    ("L", ".png", 77, 77),
    ("RGB", ".png", (255, 0, 0), 76),  # ITU-R 601 luma of pure red
    ("RGB", ".bmp", (0, 255, 0), 150),
    ("RGBA", ".png", (200, 200, 200, 255), 200),
    ("RGBA", ".png", (200, 200, 200, 0), 0),  # fully transparent → composited over black
    ("LA", ".png", (90, 255), 90),
    ("P", ".png", 0, 0),
    ("P", ".bmp", 0, 0),
    ("1", ".png", 1, 255),
    ("1", ".bmp", 1, 255),
    ("I;16", ".png", 65535, 255),  # 16-bit gray is scaled to 8 bits, not clipped
    ("I;16", ".png", 32896, 128),
    ("CMYK", ".jpg", (0, 0, 0, 0), 255),
    ("L", ".JPG", 100, 100),
    ("RGB", ".jpeg", (50, 50, 50), 50),
])
def test_image_modes_and_formats(tmp_path, mode, suffix, value, expected_gray):
    write_image(tmp_path / "a" / f"x{suffix}", mode, value=value)
    write_image(tmp_path / "b" / "y.png", "L", value=0)
    data = load_data(tmp_path, (12, 12, 1), val_split=0.0)
    gray = data.train_x[data.train_y == 0]
    assert gray.shape == (1, 12, 12, 1)
    assert abs(int(np.median(gray)) - expected_gray) <= (2 if suffix.lower() in (".jpg", ".jpeg") else 0)
    rgb = load_data(tmp_path, (12, 12, 3), val_split=0.0).train_x
    assert rgb.shape == (2, 12, 12, 3) and rgb.dtype == np.uint8


def test_rgb_keeps_colour(tmp_path):
    write_image(tmp_path / "a" / "red.png", "RGB", value=(255, 0, 0))
    write_image(tmp_path / "b" / "blue.bmp", "RGB", value=(0, 0, 255))
    data = load_data(tmp_path, (4, 4, 3), val_split=0.0)
    assert data.train_x[0, 0, 0].tolist() == [255, 0, 0]
    assert data.train_x[1, 0, 0].tolist() == [0, 0, 255]


def test_centre_crop_to_aspect_then_resize(tmp_path):
    # 180 wide × 60 high, a 30 px white bar in the middle. A square centre crop is x = 60…120, where the bar
    # is half the width: 15 of 30 output pixels. Stretching the whole width would leave 5.
    pixels = np.zeros((60, 180), dtype=np.uint8)
    pixels[:, 75:105] = 255
    (tmp_path / "a").mkdir()
    Image.fromarray(pixels).save(tmp_path / "a" / "wide.png")
    write_image(tmp_path / "b" / "y.png", "L", value=0)
    data = load_data(tmp_path, (30, 30, 1), val_split=0.0)
    row = data.train_x[0, 15, :, 0]
    assert row[0] == 0 and row[-1] == 0 and row[15] == 255
    assert 14 <= (row > 127).sum() <= 16


def test_mixed_sizes_and_large_jpeg(tmp_path):
    write_image(tmp_path / "a" / "small.png", "RGB", size=(5, 7), value=(10, 20, 30))
    write_image(tmp_path / "a" / "big.jpg", "RGB", size=(1600, 1200), value=(200, 100, 50))
    write_image(tmp_path / "b" / "tall.bmp", "L", size=(20, 300), value=99)
    data = load_data(tmp_path, (32, 32, 3), val_split=0.0)
    assert data.train_x.shape == (3, 32, 32, 3)
    big = data.train_x[0]  # sorted file names: big.jpg before small.png
    assert np.abs(big.astype(int) - [200, 100, 50]).max() <= 3


def test_exif_orientation_is_applied(tmp_path):
    # Stored 40 wide × 20 high with its left half white, EXIF orientation 6 (rotate 90° clockwise to view):
    # the upright image is 20 wide × 40 high with its top half white.
    pixels = np.zeros((20, 40), dtype=np.uint8)
    pixels[:, :20] = 255
    image = Image.fromarray(pixels)
    exif = Image.Exif()
    exif[0x0112] = 6
    (tmp_path / "a").mkdir()
    image.save(tmp_path / "a" / "rotated.jpg", exif=exif, quality=100)
    write_image(tmp_path / "b" / "y.png", "L", value=0)
    data = load_data(tmp_path, (40, 20, 1), val_split=0.0)
    upright = data.train_x[0, :, :, 0].astype(int)
    assert upright[:15].mean() > 240 and upright[25:].mean() < 15


def test_hidden_and_non_image_files_are_ignored(tmp_path):
    make_folder(tmp_path, {"a": 2, "b": 2})
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    (tmp_path / "a" / ".DS_Store").write_bytes(b"\0\1\2")
    (tmp_path / "a" / "._0.png").write_bytes(b"AppleDouble junk")  # hidden, despite the image suffix
    (tmp_path / ".hidden_class").mkdir()
    write_image(tmp_path / ".hidden_class" / "x.png", "L")
    (tmp_path / "README.md").write_text("files at the top level are not classes")
    write_image(tmp_path / "b" / "nested" / "deeper.png", "L")
    data = load_data(tmp_path, (8, 8, 1), val_split=0.0)
    assert data.labels == ["a", "b"]
    assert np.bincount(data.train_y).tolist() == [2, 3]


# ---- errors: one line each, naming the problem ------------------------------------------------------

def load_error(*args, **kwargs) -> str:
    with pytest.raises(UserError) as caught:
        load_data(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_missing_directory(tmp_path):
    assert load_error(str(tmp_path / "nope"), (8, 8, 1)) == f"data directory not found: {tmp_path / 'nope'}"


def test_not_a_directory(tmp_path):
    file = write_image(tmp_path / "x.png", "L")
    assert load_error(str(file), (8, 8, 1)) == f"data path is not a directory: {file}"


@pytest.mark.parametrize("classes", [{}, {"only": 3}])
def test_fewer_than_two_classes(tmp_path, classes):
    make_folder(tmp_path, classes)
    message = load_error(tmp_path, (8, 8, 1))
    assert "needs at least 2 class sub-folders" in message and f"found {len(classes)}" in message


def test_empty_class_is_named(tmp_path):
    make_folder(tmp_path, {"a": 2, "b": 2})
    (tmp_path / "empty_one").mkdir()
    (tmp_path / "empty_one" / "readme.txt").write_text("no images here")
    message = load_error(tmp_path, (8, 8, 1))
    assert message.startswith("class 'empty_one' has no images")


@pytest.mark.parametrize("damage", ["empty", "text", "truncated"])
def test_corrupt_image_is_named(tmp_path, damage):
    make_folder(tmp_path, {"a": 3, "b": 3})
    bad = tmp_path / "b" / "001.png"
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(bad)
    content = {"empty": b"", "text": b"this is not a png", "truncated": bad.read_bytes()[:6000]}[damage]
    bad.write_bytes(content)
    message = load_error(tmp_path, (8, 8, 1))
    assert message.startswith(f"cannot read image {bad}: ")


def test_truncated_jpeg_is_named(tmp_path):
    make_folder(tmp_path, {"a": 2, "b": 2})
    bad = tmp_path / "a" / "photo.jpg"
    noise = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)
    Image.fromarray(noise).save(bad)
    bad.write_bytes(bad.read_bytes()[:2000])
    assert load_error(tmp_path, (8, 8, 3)).startswith(f"cannot read image {bad}: ")


def test_val_dir_with_other_classes(tmp_path):
    make_folder(tmp_path / "train", {"a": 2, "b": 2, "c": 2})
    make_folder(tmp_path / "val", {"a": 1, "b": 1, "d": 1})
    message = load_error(tmp_path / "train", (8, 8, 1), val_dir=str(tmp_path / "val"))
    assert "validation classes" in message and "missing c" in message and "unexpected d" in message


def test_val_dir_missing(tmp_path):
    make_folder(tmp_path / "train", {"a": 2, "b": 2})
    message = load_error(tmp_path / "train", (8, 8, 1), val_dir=str(tmp_path / "nope"))
    assert message == f"validation directory not found: {tmp_path / 'nope'}"


@pytest.mark.parametrize("shape", [(8, 8, 2), (8, 8, 4), (0, 8, 1), (8, 8), "96x96x1"])
def test_bad_input_shape(tmp_path, shape):
    make_folder(tmp_path, {"a": 2, "b": 2})
    assert "input shape" in load_error(tmp_path, shape)


@pytest.mark.parametrize("val_split", [-0.1, 1.0, 1.5, "0.2"])
def test_bad_val_split(tmp_path, val_split):
    make_folder(tmp_path, {"a": 2, "b": 2})
    assert "validation split" in load_error(tmp_path, (8, 8, 1), val_split=val_split)
