"""builtin:photos, the photo-like set: real photographic textures, JPEG files of varied size and aspect,
deterministic per (seed, index), the same pixels through the folder loader as through builtin:photos."""
import io

import numpy as np
from PIL import Image

from mobilenet_tiny.data import load_data
from mobilenet_tiny.data.photos import PHOTO_LABELS, photo_jpeg, photo_labels, source_photos, write_photo_folder


def test_made_from_real_photographs():
    photos = source_photos()
    assert len(photos) >= 12
    # Photographs, not flat drawings: many distinct colours and fine detail in every one.
    for photo in photos:
        pixels = np.asarray(photo.resize((128, 128)), dtype=np.int16)
        assert len(np.unique(pixels.mean(axis=-1).round())) > 100  # smooth tones, many levels
        assert np.abs(np.diff(pixels, axis=1)).mean() > 2  # and detail
    assert sum(np.asarray(p)[..., 0].std() > 0 and (np.asarray(p).std(axis=-1) > 5).mean() > 0.3
               for p in photos) >= 8  # most of them in colour


def test_jpeg_files_of_varied_size_quality_and_aspect():
    labels = photo_labels(40, seed=0)
    sizes, files = set(), []
    for i in range(40):
        data = photo_jpeg(0, i, int(labels[i]))
        assert data[:3] == b"\xff\xd8\xff"  # JPEG
        with Image.open(io.BytesIO(data)) as image:
            sizes.add(image.size)
            assert 72 <= min(image.size) and max(image.size) <= 200
        files.append(data)
    aspects = {w / h for w, h in sizes}
    assert len(sizes) > 30 and min(aspects) < 0.8 and max(aspects) > 1.25
    assert photo_jpeg(0, 5, int(labels[5])) == files[5]  # deterministic per (seed, index)
    assert photo_jpeg(1, 5, int(labels[5])) != files[5]


def test_folder_and_builtin_give_the_same_pixels(tmp_path):
    write_photo_folder(tmp_path / "three", 30, seed=2, classes=3)
    assert sorted(p.name for p in (tmp_path / "three").iterdir()) == list(PHOTO_LABELS[:3])
    folder = load_data(tmp_path / "three", (40, 48, 3), val_split=0.0)
    assert folder.labels == list(PHOTO_LABELS[:3]) and len(folder.train_x) == 30
    write_photo_folder(tmp_path / "all", 30, seed=2)
    from mobilenet_tiny.data.photos import draw_photos

    x, y = draw_photos(30, (40, 48, 3), seed=2)
    # The folder is sorted by class then name; the set by index. The same images, pixel for pixel.
    by_index = {int(p.stem): p for p in (tmp_path / "all").rglob("*.jpg")}
    for i in range(30):
        assert by_index[i].parent.name == PHOTO_LABELS[y[i]]
        with Image.open(by_index[i]) as image:
            from mobilenet_tiny.data.folders import fit_image

            assert np.array_equal(fit_image(image, (40, 48, 3)), x[i])


def test_harder_than_a_colour_lookup():
    """The class is not given away by colour alone: a fifth of each class has a random colour, and
    neighbouring classes' typical colours overlap."""
    from mobilenet_tiny.data.photos import draw_photos

    x, y = draw_photos(200, (32, 32, 3), seed=0)
    means = x.reshape(200, -1, 3).mean(axis=1)
    # nearest class-mean colour classifier, judged on the same images (optimistic): far from perfect
    centres = np.stack([means[y == k].mean(axis=0) for k in range(len(PHOTO_LABELS))])
    guess = np.argmin(((means[:, None] - centres[None]) ** 2).sum(-1), axis=1)
    assert (guess == y).mean() < 0.5
