"""A training run's model on an emulated board: serial-test sends exactly the run's validation files and
prints the device's confusion matrix; `predict` gives the same top-K on the host runtimes and the device."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mobilenet_tiny.device.board import get_board
from mobilenet_tiny.device.emulator import Emulator

pytestmark = pytest.mark.qemu


@pytest.fixture(scope="module")
def device(photo_run, tmp_path_factory):
    """qemu_m4 running the photo run's model (compiled runtime): yields the socket URL."""
    from mobilenet_tiny.device.firmware_build import build_firmware

    build = build_firmware("qemu_m4", photo_run, out_dir=tmp_path_factory.mktemp("fw-run"), log=lambda *_: None)
    with Emulator(get_board("qemu_m4"), build.firmware, time_limit=600) as qemu:
        yield qemu.url


def recorded_files(run, split):
    import json

    return [im["file"] for im in json.loads((run / "splits.json").read_text())["splits"][split]["images"]]


def test_serial_test_sends_the_run_s_validation_files(device, photo_run):
    from mobilenet_tiny.device.serial_test import serial_test

    lines = []
    report = serial_test(device, photo_run, timeout=60, log=lines.append)
    assert sorted(report.files) == sorted(recorded_files(photo_run, "val"))
    assert report.ok and report.count == len(report.files)
    text = "\n".join(report.summary_lines())
    assert "validation split of" in text and "device confusion matrix" in text
    assert report.confusion().sum() == report.count and np.trace(report.confusion()) == report.device_correct
    sampled = serial_test(device, photo_run, split="test", limit=5, timeout=60)
    assert set(sampled.files) <= set(recorded_files(photo_run, "test")) and sampled.count == 5


def test_predict_gives_the_same_top_k_on_host_and_device(device, photo_run, photo_folder):
    from mobilenet_tiny.predict import predict_images

    images = [str(photo_folder / f) for f in recorded_files(photo_run, "val")[:4]]
    on = {runtime: predict_images(images, photo_run, runtime=runtime, top=3) for runtime in ("tflm", "compiled")}
    on["device"] = predict_images(images, photo_run, port=device, top=3, timeout=60)
    for results in on.values():
        assert [r.image for r in results] == images and all(len(r.top) == 3 for r in results)
    for runtime in ("compiled", "device"):
        assert [r.top for r in on[runtime]] == [r.top for r in on["tflm"]]
        assert all(np.array_equal(a.output, b.output) for a, b in zip(on[runtime], on["tflm"]))
    probabilities = [p for r in on["tflm"] for _, p in r.top]
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    # The command line, as a user runs it.
    cli = subprocess.run([str(Path(sys.executable).with_name("mobilenet-tiny")), "predict", *images[:2],
                          "--model", str(photo_run), "--port", device, "--top", "2"],
                         capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.splitlines() == [r.line() for r in predict_images(images[:2], photo_run, top=2)]
