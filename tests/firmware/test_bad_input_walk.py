"""Every command's bad inputs in one table, each run as a user runs it: exactly one line on stderr, starting
with `error:` and naming the problem, a non-zero exit, no traceback, nothing written. A check that comes
before the work it guards shows here too: a late one would print the work's progress line first."""
import os
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from artifact_cache import cached_bytes, source_hash
from interrupt_harness import CLI, tree_hashes

M, D, H, L, J, C, V, F, O, E, P = "<model>", "<data>", "<h5>", "<lstm>", "<junk>", "<cut>", "<ver99>", "<file>", \
    "<occupied>", "<empty>", "<image>"

CASES = [
    # info (its other bad arguments: tests/cli/test_info.py)
    ("info", "--input", "96x96x2", "channels must be 1 (gray) or 3 (RGB)"),
    ("info", "--classes", "x", "'x' is not a valid integer"),
    # train (each of these imports TensorFlow first: the few that stand for the rest)
    ("train", "--epochs", "0", "--qat-epochs", "0", "--out", "t", "nothing to train"),
    ("train", "--resume", "--out", E, "not a training run"),
    ("train", "--out", F, "is not a directory"),
    ("train", "--out", F + "/run", "is a file"),
    ("train", "--strategy", "ring", "--out", "t",
     "'ring' is not one of 'auto', 'one-device', 'mirrored', 'multi-worker'"),
    ("train", "--strategy", "multi-worker", "--out", "t", "--strategy multi-worker needs TF_CONFIG"),
    ({"TF_CONFIG": "{not json"}, "train", "--out", "t", "TF_CONFIG is not a cluster description"),
    ({"TF_CONFIG": '{"cluster": {"worker": ["127.0.0.1:1"]}}'}, "train", "--strategy", "multi-worker", "--out", "t",
     "(no 'task' in it)"),
    ({"TF_CONFIG": '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}'}, "train",
     "--out", "t", "task worker 3 is not in the cluster"),
    ("train", "--cache", "c", "--out", "t", "--cache is for image folders"),
    ("train", "--data", D, "--cache", F, "--out", "t", "cannot create the cache folder"),
    ("train", "--input-pipeline", "stream", "--out", "t", "--input-pipeline stream is for image folders"),
    ("train", "--data", "/missing", "--benchmark-input", "data directory not found: /missing"),
    # dataset vww (its other bad inputs: tests/data/test_vww.py)
    ("dataset", "vww", "--coco", "/nowhere", "-o", "v", "COCO folder not found: /nowhere"),
    ("dataset", "vww", "--coco", E, "-o", "v", "is not a COCO download"),
    ("dataset", "vww", "--coco", E, "-o", "v", "--min-area", "2", "--min-area 2.0 must be a fraction"),
    # convert
    ("convert", "nope.h5", "no such file or directory"),
    ("convert", F, "expected a training run directory"),
    ("convert", J, "--out", "c", "not a TFLite model"),
    ("convert", H, "--data", D, "--out", F, "is not a directory"),
    ("convert", H, "--data", D, "--out", F + "/sub", "is a file"),
    ("convert", H, "--data", D, "--out", "/sys/mobilenet-tiny-test", "cannot create output directory"),
    ("convert", M, "--out", "c", "--name", "Bad-Name", "use a C identifier"),
    ("convert", L, "--data", D, "--out", "c", "layer 'lstm' (LSTM) is not supported"),
    ("convert", M, "--out", "c", "--arena-limit", "2000", "arena"),
    # evaluate
    ("evaluate", J, "--data", D, "not a TFLite model"),
    ("evaluate", M, "--data", "/missing", "/missing"),
    ("evaluate", M, "--data", D, "--runtime", "foo", "'foo' is not one of 'tflm', 'litert'"),
    ("evaluate", V, "--data", D, "--runtime", "litert", "LiteRT cannot load the model"),
    # compile
    ("compile", J, "-o", "c", "not a TFLite model"),
    ("compile", M, "Missing option '-o'"),
    ("compile", M, "-o", F, "is not a directory"),
    ("compile", M, "-o", "c", "--name", "9bad", "use a C identifier"),
    ("compile", E, "-o", "c", "no .tflite model"),
    ("compile", M, "-o", "c", "--memory", "tiny", "'tiny' is not one of 'min', 'balanced', 'fast'"),
    # fit (its checks come before any model is built)
    ("fit", "--board", "uno", "unknown board 'uno'"),
    ("fit", "--board", "qemu_m4", "--arch", "v3", "unknown architecture 'v3'"),
    ("fit", "--board", "qemu_m4", "--input", "96x96x2", "channels must be 1 (gray) or 3 (RGB)"),
    ("fit", "--board", "qemu_m4", "--ram-bytes", "0", "a RAM budget of 0 B"),
    ("fit", "--board", "qemu_m4", "--latency-ms", "-5", "--latency-ms must be positive"),
    ("train", "--fit-board", "qemu_m4", "--alpha", "0.5", "--out", "t", "--alpha and --fit-board"),
    # firmware build
    ("firmware", "build", "--board", "uno", "--model", M, "unknown board 'uno'"),
    ("firmware", "build", "--board", "qemu_m4", "--model", "missing.tflite", "model not found"),
    ("firmware", "build", "--board", "qemu_m4", "--model", J, "not a TFLite model"),
    ("firmware", "build", "--board", "qemu_m4", "--model", C, "corrupt TFLite model"),
    ("firmware", "build", "--board", "qemu_m4", "--model", M, "--out", F, "is not a directory"),
    ("firmware", "build", "--board", "qemu_m4", "--model", M, "--out", O, "was not made by `firmware build`"),
    ("firmware", "build", "--board", "qemu_m4", "--model", M, "--runtime", "tflm", "no TFLM tree: run `mobilenet-tiny tflm-tree`"),
    ("firmware", "build", "--board", "qemu_m4", "--model", M, "--kernels", "cmsis-nn", "are TFLM options"),
    ("firmware", "build", "--board", "qemu_rv32", "--model", M, "--runtime", "tflm", "--kernels", "cmsis-nn",
     "CMSIS-NN is Arm-only"),
    ("firmware", "build", "--board", "qemu_m4", "--model", M, "--runtime", "tflm", "--arena-bytes", "10",
     "smaller than the model's input"),
    # tflm-tree
    ("tflm-tree", "--from", E, "is not a git directory"),
    ("tflm-tree", "--from", "/nowhere", "does not exist"),
    # flash
    ("flash", "--board", "uno", "unknown board 'uno'"),
    ("flash", "--board", "qemu_m7", "--project", "nowhere", "no firmware for qemu_m7"),
    ("flash", "--board", "qemu_m4", "--port", "socket://127.0.0.1", "expected socket://HOST:PORT"),
    # monitor
    ("monitor", "--port", "socket://127.0.0.1", "expected socket://HOST:PORT"),
    ("monitor", "--port", "tcp://127.0.0.1:5555", "unknown URL scheme tcp://"),
    ("monitor", "--port", "/dev/ttyNOPE0", "cannot open serial port /dev/ttyNOPE0"),
    # serial-test
    ("serial-test", "--port", "/dev/ttyNOPE0", "--model", M, "--data", D, "cannot open serial port"),
    ("serial-test", "--port", "socket://127.0.0.1:99999", "--model", M, "--data", D, "TCP port 1-65535"),
    ("serial-test", "--port", "/dev/ttyNOPE0", "--model", M, "--data", D, "--limit", "0", "--limit must be"),
    ("serial-test", "--port", "/dev/ttyNOPE0", "--model", J, "--data", D, "not a TFLite model"),
    ("serial-test", "--port", "/dev/ttyNOPE0", "--model", C, "--data", D, "corrupt TFLite model"),
    # export
    ("export", "arduino", J, "-o", "lib", "not a TFLite model"),
    ("export", "arduino", M, "-o", F, "is not a library made by `export arduino`"),
    ("export", "arduino", M, "-o", "lib", "--name", "9lib", "C identifier"),
    ("export", "arduino", M, "-o", "lib", "--image", "missing.png", "missing.png"),
    # predict
    ("predict", "--model", M, "nope.png", "no such image: nope.png"),
    ("predict", "--model", J, P, "not a TFLite model"),
    ("predict", "--model", M, M, "cannot read image"),
    ("predict", "--model", M, P, "--port", "socket://127.0.0.1", "expected socket://HOST:PORT"),
    # split
    ("split", "export", E, "-o", "x", "has no recorded splits"),
    # bench
    ("bench", "--board", "esp32dev", "--model", M, "choose an emulated board"),
    ("bench", "--board", "qemu_m4", "--model", M, "--runs", "0", "--runs must be at least 1"),
    ("bench", "--board", "qemu_m4", "--model", M, "--runtime", "compiled,tlfm", "unknown runtime 'tlfm'"),
    ("bench", "--board", "qemu_rv32", "--model", M, "--cycles", "no cycle estimate for qemu_rv32"),
    ("bench", "--board", "qemu_rv32", "--model", M, "--runtime", "compiled,tflm-cmsis-nn", "CMSIS-NN is Arm-only"),
    ("bench", "--board", "qemu_m4", "--model", M, "--clock-mhz", "0", "--clock-mhz must be a positive clock"),
    # demo
    ("demo", "--limit", "0", "--out", "d", "--limit must be at least 1"),
    ("demo", "--board", "esp32dev", "--out", "d", "is real hardware"),
    ("demo", "--epochs", "-1", "--out", "d", "--epochs must be ≥ 0"),
    ("demo", "--out", F, "is not a directory"),
    # the command line itself
    ("frobnicate", "No such command 'frobnicate'"),
    ("--no-such-option", "No such option '--no-such-option'"),
]


def _h5(model) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        model.save(Path(d) / "m.h5", save_format="h5")
        return (Path(d) / "m.h5").read_bytes()


def _tiny_h5() -> bytes:
    from mobilenet_tiny.models import mobilenet_v1
    from mobilenet_tiny.tf_env import keras

    keras.utils.set_random_seed(0)
    return _h5(mobilenet_v1((32, 32, 1), 0.25, 4))


def _lstm_h5() -> bytes:
    from mobilenet_tiny.tf_env import keras

    x = keras.Input((32, 32, 1))
    y = keras.layers.LSTM(8)(keras.layers.Reshape((32, 32))(x))
    return _h5(keras.Model(x, keras.layers.Dense(4, activation="softmax")(y)))


def op_version_99(model: bytes) -> bytes:
    """The model with its first operator code claiming version 99: TFLM (which ignores versions) runs
    it, LiteRT refuses it."""
    import tflite

    data = bytearray(model)
    code = tflite.Model.GetRootAsModel(data, 0).OperatorCodes(0)
    offset = code._tab.Offset(8)  # OperatorCode.version
    assert offset, "the converter wrote no version field"
    struct.pack_into("<i", data, code._tab.Pos + offset, 99)
    return bytes(data)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, small_model_path, image_folder):
    d = tmp_path_factory.mktemp("bad-inputs")
    files = {M: small_model_path, D: image_folder, F: d / "a_file", J: d / "junk.tflite", C: d / "cut.tflite",
             V: d / "v99" / "model.tflite", H: d / "tiny.h5", L: d / "lstm.h5", O: d / "occupied", E: d / "empty",
             P: next(image_folder.rglob("*.png"))}
    files[F].write_text("a file where a folder should be")
    files[J].write_bytes(b"not a model at all")
    files[C].write_bytes(small_model_path.read_bytes()[:3000])
    files[V].parent.mkdir()
    files[V].write_bytes(op_version_99(small_model_path.read_bytes()))
    (files[V].parent / "labels.json").write_text((small_model_path.parent / "labels.json").read_text())
    code = {"code": source_hash("models", "tf_env.py")}
    files[H].write_bytes(cached_bytes("walk-tiny-v1-h5", code, _tiny_h5))
    files[L].write_bytes(cached_bytes("walk-lstm-h5", code, _lstm_h5))
    files[O].mkdir()
    (files[O] / "keep.txt").write_text("a user's file")
    files[E].mkdir()
    return {k: str(v) for k, v in files.items()}


def _case_id(case) -> str:
    env = case[0] if isinstance(case[0], dict) else {}
    return " ".join([*(f"{k}={v}" for k, v in env.items()), *case[bool(env):-1]])[:60]


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_bad_input_gives_one_line(tmp_path, case, inputs):
    *args, fragment = case
    extra_env = args.pop(0) if isinstance(args[0], dict) else {}  # a case may set environment variables first
    args = [inputs.get(a, a) for a in args]
    for placeholder in (F,):  # paths under the a-file placeholder
        args = [inputs[placeholder] + a[len(placeholder):] if a.startswith(placeholder) else a for a in args]
    before = {k: tree_hashes(v) for k, v in inputs.items() if Path(v).is_dir()}
    env = {k: v for k, v in os.environ.items() if k != "MTK_TFLM_DIR"}
    env["MOBILENET_TINY_CACHE"] = str(tmp_path / "no-cache")  # no TFLM tree (only read: nothing is made)
    env["XDG_RUNTIME_DIR"] = str(tmp_path)  # flash's state, never the user's
    env.pop("TF_CONFIG", None)
    env.update(extra_env)
    r = subprocess.run([CLI, *args], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    lines = r.stderr.splitlines()
    assert r.returncode != 0, r.stdout
    assert len(lines) == 1 and lines[0].startswith("error: "), r.stderr[-3000:]
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in r.stdout + r.stderr
    assert sorted(tree_hashes(tmp_path)) == [], sorted(tree_hashes(tmp_path))  # nothing written here
    assert {k: tree_hashes(v) for k, v in inputs.items() if Path(v).is_dir()} == before  # nor there


def test_the_walk_covers_every_command():
    from mobilenet_tiny.cli import main

    commands = {c[1] if isinstance(c[0], dict) else c[0] for c in CASES}
    assert set(main.commands) - {"firmware"} <= commands, set(main.commands) - commands


def test_convert_goes_on_when_litert_refuses_the_model(tmp_path, inputs):
    """TFLM runs the model, LiteRT refuses it (an op version it does not know): convert writes the whole
    set and says the second opinion is unavailable, instead of failing after writing half of it."""
    r = subprocess.run([CLI, "convert", inputs[V], "--data", inputs[D], "--out", "out"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "LiteRT unavailable for this model (LiteRT cannot load the model" in r.stdout
    import json

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert "LiteRT cannot load the model" in report["tflm_vs_litert_reference"]["unavailable"]
    assert "int8_litert_reference" not in report["accuracy"] and "int8_tflm" in report["accuracy"]
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {"model.tflite", "model_data.h", "model_data.cc",
                                                              "report.json", "report.md", "confusion.png"}
