"""A resumed run equals the unbroken run byte for byte — killed (SIGKILL) and interrupted (Ctrl-C) at
several points: after an epoch line, between epochs, during QAT, during a `--resume --epochs N` extension —
with the cosine schedule and warm-up, early stopping, strong augmentation, class weights and dropout; a
Ctrl-C after an epoch line keeps that epoch's checkpoint and exits 130; stale temporaries are cleaned."""
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))
ARGS = dict(data="builtin:shapes?n=120", input="32x32", epochs=3, qat_epochs=2, batch_size=16, lr_schedule="cosine",
            warmup_epochs=1, patience=1, augment="strong", class_weight="balanced", seed=3)
EXTENDED_EPOCHS = 4
OUTPUTS = ("float_model.h5", "qat_model.h5", "history.json", "splits.json")


def _options(**kw) -> list[str]:
    return [f"--{k.replace('_', '-')}={v}" for k, v in kw.items()]


def fingerprint(run: Path) -> dict:
    """Hashes of the files a run produced (the .tflite is converted from qat_model.h5 deterministically:
    test_determinism_resume.py)."""
    return {name: hashlib.sha256((run / name).read_bytes()).hexdigest() for name in OUTPUTS}


@pytest.fixture(scope="module")
def unbroken(tmp_path_factory):
    """The same run never stopped: trained, then extended (before its QAT phase ended, as the killed run
    below is), in this process."""
    from mobilenet_tiny.train import TrainConfig, train

    run = tmp_path_factory.mktemp("unbroken") / "run"
    config = {k: v for k, v in ARGS.items() if k != "input"}
    train(TrainConfig(**config, input_shape=(32, 32, None)), run, log=lambda line: None)
    train(None, run, resume=True, epochs=EXTENDED_EPOCHS, log=lambda line: None)
    assert (run / "qat_model.h5").exists()
    return run, fingerprint(run)


def run_until(args, line_start, sig, delay: float = 0.0):
    """Start `mobilenet-tiny args`, and when a stderr line starts with `line_start` (a prefix or a tuple of
    them), send `sig` (after `delay` seconds). Returns (returncode, stderr lines)."""
    proc = subprocess.Popen([CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    lines = []
    deadline = time.time() + 600
    try:
        for line in proc.stderr:
            lines.append(line.rstrip("\n"))
            if line.startswith(line_start):
                time.sleep(delay)
                os.killpg(proc.pid, sig) if sig == signal.SIGKILL else proc.send_signal(sig)
                break
            assert time.time() < deadline, "no such line in 600 s"
        rest = proc.stderr.read()
        lines += rest.splitlines()
    finally:
        if proc.poll() is None and sig != signal.SIGINT:
            os.killpg(proc.pid, signal.SIGKILL)
        rc = proc.wait(timeout=300)
    return rc, lines


def test_killed_and_interrupted_run_equals_the_unbroken_one(unbroken, tmp_path):
    from mobilenet_tiny.train import completed_epochs

    run = tmp_path / "run"
    train = ["train", "--out", str(run)]

    # Ctrl-C right after the first epoch line: that epoch's checkpoint is kept, exit status 130, one line.
    rc, lines = run_until([*train, *_options(**ARGS)], "float epoch 1/3", signal.SIGINT)
    assert rc == 130, lines
    assert lines[-1].startswith("interrupted; the run in") and "keeps 1 float epoch" in lines[-1], lines
    assert "--resume" in lines[-1] and not any(line.startswith(("error", "Traceback")) for line in lines)
    assert completed_epochs(run) == {"float": 1, "qat": 0}

    # SIGKILL during QAT, right after an epoch line (its checkpoint may or may not be written yet).
    rc, lines = run_until([*train, "--resume"], "qat epoch 1/2", signal.SIGKILL)
    assert rc == -signal.SIGKILL and "resuming float training after epoch 1/3" in "\n".join(lines)
    assert completed_epochs(run)["float"] in (2, 3) and not (run / "qat_model.h5").exists()  # 2: stopped early

    # Extending the run (its QAT unfinished): killed in the extension (after its last float epoch, or in the
    # redone QAT if early stopping ended the float epochs first); a kill -9 during the final save would leave
    # temporaries and a checkpoint without its marker: --resume cleans them.
    rc, lines = run_until([*train, "--resume", f"--epochs={EXTENDED_EPOCHS}"],
                          (f"float epoch {EXTENDED_EPOCHS}/", "qat epoch 1/2"), signal.SIGKILL, delay=0.3)
    assert rc == -signal.SIGKILL and "float phase: 3 → 4 epochs" in "\n".join(lines)
    (run / ".qat_model.h5.x1y2z3.tmp").write_bytes(b"half a model")
    (run / "checkpoints" / "qat-009.index").write_bytes(b"no .done marker")
    finished = subprocess.run([CLI, *train, "--resume"], capture_output=True, text=True, timeout=600)
    assert finished.returncode == 0, finished.stderr
    assert not list(run.glob(".*.tmp")) and not (run / "checkpoints" / "qat-009.index").exists()

    _, expected = unbroken
    assert fingerprint(run) == expected


def test_extension_grows_the_phases_and_redoes_qat(unbroken):
    run, _ = unbroken
    config = json.loads((run / "config.json").read_text())
    [extension] = config["extensions"]
    assert config["epochs"] == EXTENDED_EPOCHS and extension["phase"] == "float"
    # Patience 1 stopped the float phase early (2 epochs) or it ran its 3; the extension goes on from there.
    assert extension["from_epochs"] in (2, 3) and extension["to_epochs"] == EXTENDED_EPOCHS
    history = json.loads((run / "history.json").read_text())
    floats = [h["epoch"] for h in history if h["phase"] == "float"]
    assert floats == list(range(1, len(floats) + 1)) and len(floats) >= 3
    assert [h["epoch"] for h in history if h["phase"] == "qat"] == [1, 2]  # redone after the new float epoch
    # The learning rate warmed up over epoch 1 and decays by cosine: smaller every epoch after it.
    lrs = [h["lr"] for h in history if h["phase"] == "float"]
    assert lrs[0] < lrs[1] > lrs[2]


def test_shortening_a_run_is_refused(unbroken):
    result = subprocess.run([CLI, "train", "--out", str(unbroken[0]), "--resume", "--epochs", "2"],
                            capture_output=True, text=True, timeout=300)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "cannot shorten it" in lines[0], result.stderr
