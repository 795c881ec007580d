"""Multi-worker training (tf.distribute.MultiWorkerMirroredStrategy, cluster from TF_CONFIG): two worker
processes on 127.0.0.1, a tiny model, 1 float + 1 QAT epoch (stopped after the float epoch and resumed);
beside them `--strategy mirrored` (MirroredStrategy, one replica on this CPU), which must give the
one-worker run's weights exactly.
Both finish; the chief writes the run and the other worker nothing there (its saves go to a temporary
directory it removes). The run equals a one-worker run with the same global batch: the same splits, the
same first global batch (its loss), and weights as close as rounding allows — measured in the same test
as how far a one-worker run lies from a plain one-device run on the same CPU, which differ only in the
arithmetic of their batch norms (README, "Training on several machines", says why QAT magnifies that)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))
SEED, LR, QAT_LR, STEPS = 5, 1e-3, 1e-4, 3  # 72 training images / batch 24: 3 steps per epoch
ARGS = ["--data", "builtin:textures?n=96", "--input", "32x32x1", "--epochs", "1", "--qat-epochs", "1",
        "--batch-size", "24", "--val-split", "0.25", "--seed", str(SEED), "--dropout", "0", "--lr", str(LR)]
TIMEOUT = 420


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def start(out: Path, logs: Path, name: str, tf_config: dict | None, extra=()) -> subprocess.Popen:
    scratch = logs / f"tmp-{name}"  # the process's temporary directory: empty again once it ends
    scratch.mkdir()
    env = {**os.environ, "TMPDIR": str(scratch)}
    env.pop("TF_CONFIG", None)
    args = [*ARGS, *extra]
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
        args = [*args, "--strategy", "multi-worker"]
    return subprocess.Popen([CLI, "train", *args, "--out", str(out)], env=env, start_new_session=True,
                            stdout=open(logs / f"{name}.out", "w"), stderr=open(logs / f"{name}.err", "w"))


def start_cluster(out: Path, workers: int, logs: Path, prefix: str, extra=()) -> list[subprocess.Popen]:
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(workers)]}
    return [start(out, logs, f"{prefix}{index}", {"cluster": cluster, "task": {"type": "worker", "index": index}},
                  extra) for index in range(workers)]


def wait_all(procs, timeout: float) -> list[int]:
    deadline = time.time() + timeout
    try:
        return [p.wait(timeout=max(1.0, deadline - time.time())) for p in procs]
    finally:
        for p in procs:  # always cleaned up: a worker left waiting for its peer is killed
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def weights(path: Path) -> dict:
    from mobilenet_tiny.tf_env import keras, tfmot

    with tfmot().quantization.keras.quantize_scope():
        model = keras.models.load_model(str(path), compile=False)
    return {w.name.replace("quant_", ""): w.numpy() for w in model.trainable_weights}


def initial_weights() -> dict:
    """What training starts from: the seed's model, built as train builds it."""
    from mobilenet_tiny.models import build_model
    from mobilenet_tiny.tf_env import keras
    from mobilenet_tiny.train import BN_MOMENTUM

    keras.backend.clear_session()
    keras.utils.set_random_seed(SEED)
    model = build_model("v1", (32, 32, 1), None, 4, dropout=0.0, bn_momentum=BN_MOMENTUM)
    return {w.name: w.numpy() for w in model.trainable_weights}


def median_gap(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return float(np.median(np.concatenate([np.abs(a[k] - b[k]).ravel() for k in a])))


def test_two_workers_equal_one_worker(tmp_path):
    # The two workers, the one-worker reference and the rounding yardstick (a plain one-device run) at once:
    # the workers often wait for each other, the other two use that time. The two workers stop after the
    # float phase and resume for QAT: both restore the chief's checkpoint, worker 1 from a copy of the run
    # (stopped and resumed, two workers gave the unbroken two-worker run's bytes when measured; README).
    began = time.time()
    cluster = start_cluster(tmp_path / "two", 2, tmp_path, "two-w", ["--qat-epochs", "0"])
    others = [*start_cluster(tmp_path / "one", 1, tmp_path, "one-w"), start(tmp_path / "plain", tmp_path, "plain", None),
              start(tmp_path / "mirrored", tmp_path, "mirrored", None, ["--strategy", "mirrored"])]
    codes = wait_all(cluster, TIMEOUT)
    codes += wait_all(start_cluster(tmp_path / "two", 2, tmp_path, "two-r", ["--resume", "--qat-epochs", "1"]), TIMEOUT)
    wall = time.time() - began
    codes += wait_all(others, TIMEOUT)
    logs = ("two-w0", "two-w1", "two-r0", "two-r1", "one-w0", "plain", "mirrored")
    assert codes == [0] * 7, {n: (tmp_path / f"{n}.err").read_text()[-3000:] for n in logs}
    two, one, plain = tmp_path / "two", tmp_path / "one", tmp_path / "plain"
    names = sorted(p.name for p in two.iterdir())
    assert names == ["checkpoints", "config.json", "float_model.h5", "history.json", "labels.txt", "qat_model.h5",
                     "splits.json", "training_curve.png"], names
    for name in ("tmp-two-w1", "tmp-two-r1"):
        assert not list((tmp_path / name).iterdir())  # worker 1's saves went there and were removed
    assert "2 workers, this is worker 0 (chief); 2 replicas in all, global batch 24" in \
        (tmp_path / "two-w0.err").read_text()
    assert "this is worker 1;" in (tmp_path / "two-w1.err").read_text()
    for name in ("two-r0", "two-r1"):
        assert "resuming float training after epoch 1/1" in (tmp_path / f"{name}.err").read_text()
    print(f"two-worker run (float, then resumed for QAT): {wall:.0f} s wall (beside the two reference runs)")
    assert (two / "splits.json").read_bytes() == (one / "splits.json").read_bytes()
    # MirroredStrategy on this GPU-less machine: one replica on the CPU, the same synchronized batch norms
    # and distributed input as a one-worker cluster, so the same arithmetic: the same weights exactly.
    mirrored = tmp_path / "mirrored"
    assert "training on mirrored: 1 replica in all, global batch 24" in (tmp_path / "mirrored.err").read_text()
    assert (mirrored / "splits.json").read_bytes() == (one / "splits.json").read_bytes()
    for name in ("float_model.h5", "qat_model.h5"):
        w_mirrored, w_one = weights(mirrored / name), weights(one / name)
        assert w_mirrored.keys() == w_one.keys()
        assert all(np.array_equal(w_mirrored[k], w_one[k]) for k in w_one), name

    history = {d.name: json.loads((d / "history.json").read_text()) for d in (two, one)}
    assert [h["phase"] for h in history["two"]] == [h["phase"] for h in history["one"]] == ["float", "qat"]
    # The same images in the first global batch, from the same weights: the same loss (Keras logs the sum
    # of the two replicas' losses, each the mean over the replica's half of the batch).
    assert history["two"][0]["first_batch_loss"] == pytest.approx(2 * history["one"][0]["first_batch_loss"],
                                                                   rel=1e-5)
    for h2, h1 in zip(history["two"], history["one"]):
        assert h2["val_loss"] == pytest.approx(h1["val_loss"], rel=1e-3)

    start_weights = initial_weights()
    for name, lr_steps in (("float_model.h5", LR * STEPS), ("qat_model.h5", (LR + QAT_LR) * STEPS)):
        w_two, w_one, w_plain = (weights(d / name) for d in (two, one, plain))
        moved = median_gap(w_one, start_weights)  # how far training took the weights
        apart, rounding = median_gap(w_two, w_one), median_gap(w_plain, w_one)
        worst = max(float(np.abs(w_two[k] - w_one[k]).max()) for k in w_one)
        print(f"{name}: moved {moved:.2e}, two vs one worker {apart:.2e} (max {worst:.2e}), "
              f"one worker vs one device {rounding:.2e} (medians of |Δw|)")
        assert lr_steps / 3 < moved <= lr_steps  # Adam moves a weight by up to lr a step: a real start point
        assert apart <= 2 * rounding  # no further apart than rounding puts one-device and one-worker runs
        assert worst <= 2 * lr_steps  # two runs drift apart by at most twice what a weight can move
        if name == "float_model.h5":  # without fake quantization's rounding to 8 bits: nearly the same weights
            assert apart < 0.05 * moved
