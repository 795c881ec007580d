"""Every bad input to convert/evaluate: one line naming the problem, exit ≠ 0, no traceback, no output."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from artifact_cache import cached_bytes, source_hash
from mobilenet_tiny.fileio import MANIFEST
from pipeline_fixtures import randomize_batchnorm

CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))
DATA = "builtin:shapes?n=40"


def run(*args, timeout=600):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def assert_one_line_error(r, *fragments):
    assert r.returncode != 0, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in r.stdout + r.stderr


def _tiny_keras(classes=4, extra=None):
    from mobilenet_tiny.models import mobilenet_v1
    from mobilenet_tiny.tf_env import keras

    keras.utils.set_random_seed(0)
    model = randomize_batchnorm(mobilenet_v1((32, 32, 1), 0.25, classes))
    if extra is not None:
        model = keras.Model(model.input, keras.layers.Lambda(extra)(model.output))
    return model


def _h5(model) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        model.save(Path(d) / "m.h5", save_format="h5")
        return (Path(d) / "m.h5").read_bytes()


@pytest.fixture(scope="module")
def tiny_h5():
    return cached_bytes("tiny-v1-h5", {"code": source_hash("models")}, lambda: _h5(_tiny_keras()))


@pytest.fixture(scope="module")
def tiny_int8(tmp_path_factory, tiny_h5):
    """A .tflite made through the CLI's own PTQ path (which is itself under test here)."""
    d = tmp_path_factory.mktemp("tiny")
    (d / "tiny.h5").write_bytes(tiny_h5)
    r = run("convert", d / "tiny.h5", "--data", DATA, "--out", d / "out", "--name", "tiny")
    assert r.returncode == 0, r.stderr
    assert {p.name for p in (d / "out").iterdir()} == {"tiny.tflite", "tiny_data.h", "tiny_data.cc", "report.json",
                                                        "report.md", "confusion.png", "misclassified.png", "memory.png", MANIFEST}
    return (d / "out" / "tiny.tflite").read_bytes()


def _no_new_files(out: Path):
    return not out.exists() or not any(out.iterdir())


def test_not_a_tflite_file(tmp_path):
    bad = tmp_path / "junk.tflite"
    bad.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    r = run("convert", bad, "--out", tmp_path / "out")
    assert_one_line_error(r, "junk.tflite", "not a TFLite model")
    assert _no_new_files(tmp_path / "out")
    r = run("evaluate", bad, "--data", DATA)
    assert_one_line_error(r, "not a TFLite model")


def test_truncated_tflite(tmp_path, tiny_int8):
    bad = tmp_path / "cut.tflite"
    bad.write_bytes(tiny_int8[: len(tiny_int8) // 3])
    r = run("convert", bad, "--out", tmp_path / "out")
    assert_one_line_error(r, "cut.tflite")
    assert _no_new_files(tmp_path / "out")


def test_float_tflite_to_c_array(tmp_path):
    from mobilenet_tiny.tf_env import tf

    def build():
        return bytes(tf.lite.TFLiteConverter.from_keras_model(_tiny_keras()).convert())

    model = tmp_path / "float.tflite"
    model.write_bytes(cached_bytes("tiny-v1-float-tflite", {"code": source_hash("models")}, build))
    r = run("convert", model, "--out", tmp_path / "out")
    assert_one_line_error(r, "float32", "full-int8")
    assert _no_new_files(tmp_path / "out")


def test_model_classes_do_not_match_the_data(tmp_path, tiny_h5):
    (tmp_path / "m.h5").write_bytes(tiny_h5)  # 4 outputs
    for n in (2, 3):
        folder = tmp_path / f"data{n}"
        for i in range(n):
            (folder / f"c{i}").mkdir(parents=True)
            from PIL import Image
            Image.new("L", (40, 40), 30 * i).save(folder / f"c{i}" / "a.png")
            Image.new("L", (40, 40), 30 * i + 5).save(folder / f"c{i}" / "b.png")
        r = run("convert", tmp_path / "m.h5", "--data", folder, "--out", tmp_path / "out")
        assert_one_line_error(r, "4 outputs", f"{n} classes")
    assert _no_new_files(tmp_path / "out")


def test_representative_data_that_does_not_fit_the_model_input():
    from mobilenet_tiny.convert.tflite import keras_to_int8_tflite
    from mobilenet_tiny.errors import UserError

    with pytest.raises(UserError, match=r"does not match the model input \(32, 32, 1\)"):
        keras_to_int8_tflite(_tiny_keras(), np.zeros((4, 48, 48, 1), np.float32))


def test_op_tflm_lacks_is_named(tmp_path):
    from mobilenet_tiny.convert.tflite import keras_to_int8_tflite
    from mobilenet_tiny.tf_env import tf

    def build():  # REDUCE_PROD converts to int8 but TFLM has no kernel for it
        model = _tiny_keras(extra=lambda x: tf.reduce_prod(x, axis=-1, keepdims=True))
        return keras_to_int8_tflite(model, np.random.default_rng(0).random((4, 32, 32, 1), np.float32))

    (tmp_path / "prod.tflite").write_bytes(cached_bytes("tiny-v1-reduce-prod", {"code": source_hash("models")}, build))
    r = run("convert", tmp_path / "prod.tflite", "--out", tmp_path / "out")
    assert_one_line_error(r, "REDUCE_PROD", "not supported by TensorFlow Lite Micro")
    assert _no_new_files(tmp_path / "out")


def test_arena_that_cannot_be_allocated(tmp_path, tiny_int8):
    (tmp_path / "m.tflite").write_bytes(tiny_int8)
    r = run("convert", tmp_path / "m.tflite", "--arena-limit", "2000", "--out", tmp_path / "out")
    assert_one_line_error(r, "arena", "2000 bytes")
    assert _no_new_files(tmp_path / "out")


def test_missing_source_and_missing_data(tmp_path, tiny_h5):
    assert_one_line_error(run("convert", tmp_path / "nope"), "no such file")
    (tmp_path / "m.h5").write_bytes(tiny_h5)
    assert_one_line_error(run("convert", tmp_path / "m.h5"), "--data")
    (tmp_path / "m.txt").write_text("hello")
    assert_one_line_error(run("convert", tmp_path / "m.txt"), "expected a training run")
    (tmp_path / "bad.h5").write_text("not hdf5")
    assert_one_line_error(run("convert", tmp_path / "bad.h5", "--data", DATA), "cannot load as a Keras model")


def test_evaluate_tiny_model_both_runtimes(tmp_path, tiny_int8):
    import json

    (tmp_path / "m.tflite").write_bytes(tiny_int8)
    results = {}
    for runtime in ("tflm", "litert"):
        r = run("evaluate", tmp_path / "m.tflite", "--data", DATA, "--runtime", runtime, "--json")
        assert r.returncode == 0, r.stderr
        results[runtime] = json.loads(r.stdout)
        assert results[runtime]["images"] == 8 and np.sum(results[runtime]["confusion_matrix"]) == 8
    r = run("evaluate", tmp_path / "m.tflite", "--data", tmp_path / "missing")
    assert_one_line_error(r, "missing")
