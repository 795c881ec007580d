"""Same seed → same .tflite bytes; a killed run resumes after its last completed epoch."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mobilenet_tiny.convert.pipeline import convert_model
from mobilenet_tiny.train import TrainConfig, completed_epochs, train

pytestmark = pytest.mark.slow

TINY = dict(arch="v1", alpha=0.25, input_shape=(32, 32, 1), data="builtin:shapes?n=96", epochs=1, qat_epochs=1,
            batch_size=16, seed=7)
CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))


def _train_and_convert(run_dir) -> bytes:
    train(TrainConfig(**TINY), run_dir, log=lambda line: None)
    return convert_model(run_dir, report=False, log=lambda line: None).model_bytes


def test_same_seed_gives_identical_tflite_bytes(tmp_path):
    a = _train_and_convert(tmp_path / "a")
    b = _train_and_convert(tmp_path / "b")
    assert a == b
    assert (tmp_path / "a" / "qat_model.h5").exists()


def test_resume_continues_after_the_last_completed_epoch(tmp_path):
    run = tmp_path / "run"
    args = [CLI, "train", "--data", "builtin:shapes?n=400", "--input", "48x48x1", "--epochs", "4",
            "--qat-epochs", "0", "--batch-size", "16", "--out", str(run)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 300
    try:
        while not (run / "checkpoints" / "float-001.done").exists():
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.time() < deadline, "no first checkpoint in 300 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # as a crash or an OOM kill would
        proc.wait()
    done = completed_epochs(run)["float"]
    assert 1 <= done < 4, "the run finished before it could be killed; the test needs a slower epoch"
    first = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in first] == list(range(1, done + 1))

    r = subprocess.run([CLI, "train", "--out", str(run), "--resume"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert f"resuming float training after epoch {done}/4" in r.stderr
    assert f"float epoch {done}/4" not in r.stderr and f"float epoch {done + 1}/4" in r.stderr
    history = json.loads((run / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    assert history[:done] == first  # completed epochs are kept as they were
    assert (run / "float_model.h5").exists()


def test_training_into_an_existing_run_needs_resume(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    r = subprocess.run([CLI, "train", "--out", str(run), "--epochs", "1"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode != 0 and "--resume" in r.stderr and len(r.stderr.strip().splitlines()) == 1
