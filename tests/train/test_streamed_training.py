"""A run trained on streamed images (read from the cache) equals the same run trained from memory, byte for
byte: models, history, splits — on a photo-like JPEG folder with an unreadable file, strong augmentation
and class weights."""
import hashlib

import pytest

from mobilenet_tiny.train import TrainConfig, train

pytestmark = pytest.mark.slow
RUN = dict(arch="v1", alpha=0.25, input_shape=(32, 32, None), val_split=0.2, test_split=0.2, epochs=2, qat_epochs=1,
           batch_size=16, augment="strong", class_weight="balanced", skip_bad_images=True, seed=2)
FILES = ("float_model.h5", "qat_model.h5", "history.json", "splits.json", "test.json")


def fingerprint(run):
    return {name: hashlib.sha256((run / name).read_bytes()).hexdigest() for name in FILES}


def test_streamed_run_equals_in_memory_run(photo_folder, tmp_path):
    config = {**RUN, "data": str(photo_folder)}
    logs = {}
    for name, options in (("memory", dict(pipeline="memory")),
                          ("stream", dict(pipeline="stream", cache=tmp_path / "cache"))):
        lines = []
        train(TrainConfig(**config), tmp_path / name, log=lines.append, **options)
        logs[name] = lines
    assert fingerprint(tmp_path / "stream") == fingerprint(tmp_path / "memory")
    assert any(line.startswith("  input: in memory") for line in logs["memory"])
    assert any(line.startswith("  input: streamed from the cache") for line in logs["stream"])
    assert any(line.startswith("  input pipeline alone: ") for line in logs["stream"])
