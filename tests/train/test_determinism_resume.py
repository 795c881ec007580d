"""Same seed → same .tflite bytes (kills and resumes: test_resume_exact.py)."""
import subprocess
import sys
from pathlib import Path

import pytest

from mobilenet_tiny.convert.pipeline import convert_model
from mobilenet_tiny.train import TrainConfig, train

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


def test_training_into_an_existing_run_needs_resume(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    r = subprocess.run([CLI, "train", "--out", str(run), "--epochs", "1"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode != 0 and "--resume" in r.stderr and len(r.stderr.strip().splitlines()) == 1
