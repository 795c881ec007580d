"""A corrupt, truncated or garbage .tflite is refused the same way by every command that takes a model: one
validation (model_facts, reading the whole flatbuffer) gives one line naming the file, before any runtime
sees it, and nothing is written."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from artifact_cache import cached_bytes, source_hash

CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))


def _tiny_int8_model() -> bytes:
    from mobilenet_tiny.convert.tflite import keras_to_int8_tflite
    from mobilenet_tiny.tf_env import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((12, 12, 1))
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(3)(x)))
    return keras_to_int8_tflite(model, np.random.default_rng(0).random((16, 12, 12, 1), np.float32))


@pytest.fixture(scope="module")
def model_bytes():
    return cached_bytes("tiny-int8-12x12", {"code": source_hash("convert/tflite.py")}, _tiny_int8_model)


def _corruptions(data: bytes, n: int, seed: int = 0):
    """Seeded damage where a flatbuffer's structure lives: 1-4 bytes overwritten in the first 2 KB, or the
    file cut short."""
    rng = np.random.default_rng(seed)
    for _ in range(n):
        d = bytearray(data)
        if rng.random() < 0.3:
            yield bytes(d[: int(rng.integers(8, len(d)))])
            continue
        for _ in range(int(rng.integers(1, 5))):
            d[int(rng.integers(8, min(len(d), 2048)))] = int(rng.integers(0, 256))
        yield bytes(d)


def test_damaged_models_are_user_errors_in_every_layer(model_bytes, tmp_path):
    """300 damaged copies: reading refuses each with a UserError or reads a well-formed model, which the
    compiler compiles or refuses with a UserError, and TFLM (in its child process) loads or refuses with a
    UserError: never another exception."""
    from mobilenet_tiny.compiler import compile_model
    from mobilenet_tiny.errors import UserError
    from mobilenet_tiny.interpreters import check_tflm_accepts
    from mobilenet_tiny.model_facts import read_model_facts

    refused, passed = 0, []
    for i, data in enumerate(_corruptions(model_bytes, 300)):
        try:
            model = read_model_facts(data, "damaged.tflite")
        except UserError as e:
            assert str(e).startswith("damaged.tflite: ") and "\n" not in str(e)
            refused += 1
            continue
        passed.append(data)
        try:
            compile_model(model, tmp_path / str(i), "model")
        except UserError:
            pass
    assert refused > 150 and len(passed) > 20, (refused, len(passed))
    for data in passed[:6]:  # a TFLM process per model: a few
        try:
            check_tflm_accepts(data)
        except UserError:
            pass


def _cli(*args, cwd):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd)


COMMANDS = {
    "convert": ["convert", "{m}", "--out", "out"],
    "evaluate": ["evaluate", "{m}", "--data", "builtin:shapes?n=40"],
    "compile": ["compile", "{m}", "-o", "out"],
    "firmware build": ["firmware", "build", "--board", "qemu_m4", "--model", "{m}", "--out", "out"],
    "serial-test": ["serial-test", "--port", "/dev/ttyNOPE0", "--model", "{m}", "--data", "builtin:shapes?n=40"],
    "bench": ["bench", "--board", "qemu_m4", "--model", "{m}", "--out", "out"],
}


def _refused(data: bytes) -> bool:
    from mobilenet_tiny.errors import UserError
    from mobilenet_tiny.model_facts import read_model_facts

    try:
        read_model_facts(data)
    except UserError:
        return True
    return False


def test_every_command_gives_the_same_one_line(model_bytes, tmp_path):
    garbage = model_bytes[:8] + np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    flipped = next(d for d in _corruptions(model_bytes, 100, seed=2) if len(d) == len(model_bytes) and _refused(d))
    files = {"cut.tflite": model_bytes[: len(model_bytes) // 2], "flipped.tflite": flipped,
             "garbage.tflite": garbage}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        lines = set()
        for command, args in COMMANDS.items():
            r = _cli(*[a.format(m=name) for a in args], cwd=tmp_path)
            err = r.stderr.strip().splitlines()
            assert r.returncode == 1 and len(err) == 1 and err[0].startswith("error: "), (command, r.stderr)
            assert f"{name}: corrupt TFLite model" in err[0], (command, err[0])
            assert "Traceback" not in r.stdout + r.stderr and not (tmp_path / "out").exists(), command
            lines.add(err[0])
        assert len(lines) == 1, lines  # word for word the same in every command
