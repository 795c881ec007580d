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
    import model_zoo

    from mobilenet_tiny.compiler import compile_model
    from mobilenet_tiny.compiler.bench import _write_inputs, build_elf

    model = cached_model("v1-gray", lambda: model_zoo.mobilenet("v1", (96, 96, 1)), arch="v1", shape="96x96x1")
    work = tmp_path_factory.mktemp("v1")
    result = compile_model(model, work, "model", memory="fast")
    n = int(np.prod(result.input_shape))
    _write_inputs(work / "bench_inputs.c", np.random.default_rng(0).integers(-128, 128, (2, n), np.int8), n)
    plain = build_elf(work, work / "plain.elf", portable=False)
    traced = build_elf(work, work / "traced.elf", portable=False, extra_flags=["-DMTK_TRACE"])
    return result, plain, traced


def _qemu(elf):
    return ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "null",
            "-semihosting-config", "enable=on,target=native", "-icount", "shift=0,align=off,sleep=off",
            "-kernel", str(elf)]


def test_inference_estimate_is_deterministic_and_covers_icount(v1_image):
    from mobilenet_tiny.compiler.bench import INSTRUCTIONS_PER_TICK, run_qemu
    from mobilenet_tiny.cycles import estimate_cycles

    result, elf, _ = v1_image
    first, _ = estimate_cycles(elf, _qemu(elf), "model_invoke")
    second, _ = estimate_cycles(elf, _qemu(elf), "model_invoke")
    assert len(first) == 2  # one window per inference
    assert [w.total for w in first] == [w.total for w in second]
    measured, _ = run_qemu(elf)
    for window, (_, instructions) in zip(first, measured):
        # the timer reads bracket the call to one tick (40 instructions) and a few instructions of their own
        assert abs(window.total.instructions - instructions) <= 2 * INSTRUCTIONS_PER_TICK
        assert 1.2 * window.total.instructions < window.total.cycles < 2.5 * window.total.instructions


def test_per_layer_segments_add_up(v1_image):
    from mobilenet_tiny.cycles import Estimate, estimate_cycles

    result, _, elf = v1_image
    windows, _ = estimate_cycles(elf, _qemu(elf), "model_invoke", "mtk_trace_step")
    total = Estimate()
    for segment in windows[0].segments:
        total += segment
    assert total == windows[0].total
    assert len(windows[0].segments) >= 20  # one per layer that calls the trace hook, and the tail after the last
