"""Streamed input (data/stream.py): the same pixels and the same batches as in memory, byte for byte; the
cache of decoded images reused across runs (decode counts) and updated when a file changes; `auto`
streams what is too large to hold; a file that changes while it streams is an error."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mobilenet_tiny import data as data_module
from mobilenet_tiny.data import load_training_data, to_tf_dataset
from mobilenet_tiny.data.catalog import files_decoded
from mobilenet_tiny.data.photos import photo_jpeg
from mobilenet_tiny.data.stream import StreamedImages
from mobilenet_tiny.errors import UserError
from pipeline_fixtures import CORRUPT_FILE

SHAPE = (24, 32, 3)  # not square: the centre crop matters


def load(folder, pipeline, cache=None, **kw):
    return load_training_data(str(folder), SHAPE, val_split=0.25, test_split=0.15, seed=4, skip_bad=True,
                              pipeline=pipeline, cache_dir=cache, **kw)


def batch_digests(data, split="train", epochs=2, **kw):
    """SHA-256 of each epoch's batches (images and labels, in order), like training would see them."""
    from mobilenet_tiny.tf_env import keras

    keras.utils.set_random_seed(3)
    dataset = to_tf_dataset(data.x(split), data.y(split), 8, training=split == "train", seed=9, **kw)
    digests = []
    for _ in range(epochs):
        digest = hashlib.sha256()
        for images, labels in dataset:
            digest.update(images.numpy().tobytes())
            digest.update(labels.numpy().tobytes())
        digests.append(digest.hexdigest())
    return digests


def test_streamed_and_in_memory_give_identical_pixels_and_batches(photo_folder, tmp_path):
    memory = load(photo_folder, "memory")
    files = load(photo_folder, "stream")
    cached = load(photo_folder, "stream", tmp_path / "cache")
    assert isinstance(memory.x("train"), np.ndarray)
    assert isinstance(files.x("train"), StreamedImages) and files.x("train").reader.kind == "files"
    assert isinstance(cached.x("train"), StreamedImages) and cached.x("train").reader.kind == "cache"
    for other in (files, cached):
        assert other.skipped == memory.skipped and [key for key, _ in memory.skipped] == [CORRUPT_FILE]
        assert other.conversions == memory.conversions
        for split in ("train", "val", "test"):
            a, b = memory.parts[split][1], other.parts[split][1]
            assert a.keys == b.keys and a.hashes == b.hashes and np.array_equal(a.y, b.y)
            assert np.asarray(b.x).tobytes() == a.x.tobytes()  # the very pixels, byte for byte
    for augment in ("light", "strong"):
        expected = batch_digests(memory, augment=augment)
        assert expected[0] != expected[1]  # a new order and new augmentation each epoch
        assert batch_digests(files, augment=augment) == expected
        assert batch_digests(cached, augment=augment) == expected
    assert batch_digests(files, "val", epochs=1) == batch_digests(memory, "val", epochs=1)
    # Two pipelines taking every other image of each global batch (distributed training's shards) see
    # exactly the images, augmentations and order of one.
    from mobilenet_tiny.tf_env import keras

    def elements(data, shard):
        keras.utils.set_random_seed(3)
        ds = to_tf_dataset(data.x("train"), data.y("train"), 1, training=True, seed=9, shard=shard)
        return [(im.numpy().tobytes(), int(label[0])) for im, label in ds]

    whole = elements(memory, None)
    halves = [elements(cached, (2, i)) for i in range(2)]
    assert sorted(whole) == sorted(halves[0] + halves[1]) and halves[0] == whole[0::2] and halves[1] == whole[1::2]


def _folder(root, n=12):
    """A small folder of photo-like JPEG files (two classes) and one unreadable file."""
    for i in range(n):
        path = root / ("ball" if i % 2 else "star") / f"{i:03d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(photo_jpeg(11, i, i % 2))
    (root / "star" / "broken.jpg").write_bytes(b"\xff\xd8\xff not a JPEG")
    return root


def test_cache_is_reused_and_updated_when_a_file_changes(tmp_path):
    folder = _folder(tmp_path / "data")
    cache = tmp_path / "cache"

    def run(pipeline="stream"):
        before = files_decoded()
        data = load(folder, pipeline, cache)
        return data, files_decoded() - before

    first, decoded = run()
    assert decoded == 13  # 12 images and the unreadable one
    again, decoded = run()
    assert decoded == 0  # everything from the cache, the unreadable file's verdict too
    assert [key for key, _ in again.skipped] == ["star/broken.jpg"]
    assert "13 images reused, 0 decoded" in again.input_note
    for split in ("train", "val", "test"):
        assert np.asarray(again.x(split)).tobytes() == np.asarray(first.x(split)).tobytes()
    in_memory, decoded = run("memory")  # the cache also feeds the in-memory pipeline
    assert decoded == 0 and isinstance(in_memory.x("train"), np.ndarray)
    assert in_memory.x("train").tobytes() == np.asarray(first.x("train")).tobytes()

    # One file changes (other content, a later mtime): only it is decoded again, and its pixels are new.
    changed = folder / "ball" / "001.jpg"
    changed.write_bytes(photo_jpeg(12, 1, 1))
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10 ** 9))
    updated, decoded = run()
    assert decoded == 1
    fresh = load(folder, "memory")  # decoded from the files, no cache
    for split in ("train", "val", "test"):
        assert np.asarray(updated.x(split)).tobytes() == fresh.x(split).tobytes()
        assert updated.parts[split][1].hashes == fresh.parts[split][1].hashes
    assert sorted(updated.parts["train"][1].hashes + updated.parts["val"][1].hashes
                  + updated.parts["test"][1].hashes) != sorted(first.parts["train"][1].hashes
                                                               + first.parts["val"][1].hashes
                                                               + first.parts["test"][1].hashes)
    assert len(list(cache.glob("*.u8"))) == 1  # the older generation is gone
    # Without --skip-bad-images the cached verdict still stops training, naming the file and the flag.
    with pytest.raises(UserError, match="broken.jpg.*--skip-bad-images"):
        load_training_data(str(folder), SHAPE, seed=4, pipeline="stream", cache_dir=cache)


def test_auto_keeps_small_sets_in_memory_and_streams_large_ones(tmp_path, monkeypatch):
    folder = _folder(tmp_path / "data", n=8)
    small = load(folder, "auto")
    assert isinstance(small.x("train"), np.ndarray) and small.pipeline == "memory"
    assert any(line.startswith("  input: in memory (9 images") for line in small.summary_lines())
    monkeypatch.setattr(data_module, "MEMORY_LIMIT_BYTES", 9 * int(np.prod(SHAPE)) - 1)
    large = load(folder, "auto")
    assert isinstance(large.x("train"), StreamedImages) and large.pipeline == "stream"
    line = next(line for line in large.summary_lines() if line.startswith("  input: "))
    assert "streamed from the files" in line and "auto:" in line and "--cache DIR" in line
    with pytest.raises(UserError, match="built-in sets are generated in memory"):
        load_training_data("builtin:textures?n=40", (16, 16, 1), pipeline="stream")


def test_a_file_that_changes_while_streaming_is_an_error(tmp_path):
    folder = _folder(tmp_path / "data", n=6)
    data = load_training_data(str(folder), SHAPE, val_split=0.0, skip_bad=True, pipeline="stream")
    images = data.x("train")
    victim = Path(images.reader.paths[images.rows[0]])
    victim.write_bytes(photo_jpeg(99, 0, 0))  # another photo under the same name
    with pytest.raises(UserError, match="changed since the data was listed"):
        images[0]


CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))


def test_benchmark_input_prints_images_per_second(tmp_path):
    folder = _folder(tmp_path / "data", n=24)
    result = subprocess.run([CLI, "train", "--benchmark-input", "--data", str(folder), "--input", "32x32x3",
                             "--skip-bad-images", "--input-pipeline", "stream", "--cache", str(tmp_path / "c")],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("input pipeline: ") and "images/s" in line and "32x32x3" in line, line
    assert float(line.split()[2].replace(",", "")) > 0
    assert "input: streamed from the cache" in result.stderr
    assert not (tmp_path / "runs").exists()  # measuring writes no run
