"""The cycle estimate of a whole inference: the stream QEMU's plugin reports covers exactly the instructions
QEMU's -icount counts for the same call, the estimate is identical run to run, and a per-layer split adds
up to the whole."""
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compiler"))

from compiler_helpers import cached_model  # noqa: E402

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                                reason="needs gcc-arm-none-eabi and qemu-system-arm")


@pytest.fixture(scope="module")
def v1_image(tmp_path_factory):
    """The benchmark harness's images (device/bench.py) of V1 on qemu_m4: plain and with the trace hook."""
    import model_zoo

    from mobilenet_tiny.device.bench import build_image, emulated_board, get_runtime

    model = cached_model("v1-gray", lambda: model_zoo.mobilenet("v1", (96, 96, 1)), arch="v1", shape="96x96x1")
    work = tmp_path_factory.mktemp("v1")
    board = emulated_board("qemu_m4")
    inputs = np.random.default_rng(0).integers(-128, 128, (2, 96 * 96), np.int8)
    plain, traced = (build_image(model, board, get_runtime("compiled"), inputs, work / name, trace=trace,
                                 memory="fast", log=lambda *_: None)
                     for name, trace in (("plain", False), ("traced", True)))
    return plain, traced


def _qemu(image):
    from mobilenet_tiny.device.emulator import qemu_command

    return qemu_command(image.board, image.elf, serial="null")


def test_inference_estimate_is_deterministic_and_covers_icount(v1_image):
    from mobilenet_tiny.cycles import estimate_cycles
    from mobilenet_tiny.device.bench import run_image

    image, _ = v1_image
    first, _ = estimate_cycles(image.elf, _qemu(image), "runtime_invoke")
    second, _ = estimate_cycles(image.elf, _qemu(image), "runtime_invoke")
    assert len(first) == 2  # one window per inference
    assert [w.total for w in first] == [w.total for w in second]
    measured = run_image(image).instructions
    for window, instructions in zip(first, measured):
        # the timer reads bracket the call to one tick (40 instructions) and a few instructions of their own
        assert abs(window.total.instructions - instructions) <= 2 * 40
        assert 1.2 * window.total.instructions < window.total.cycles < 2.5 * window.total.instructions


def test_per_layer_segments_add_up(v1_image):
    from mobilenet_tiny.cycles import Estimate, estimate_cycles

    _, image = v1_image
    windows, _ = estimate_cycles(image.elf, _qemu(image), "runtime_invoke", "mtk_trace_step")
    total = Estimate()
    for segment in windows[0].segments:
        total += segment
    assert total == windows[0].total
    assert len(windows[0].segments) >= 20  # one per layer that calls the trace hook, and the tail after the last
