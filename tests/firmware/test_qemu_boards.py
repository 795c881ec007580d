"""Firmware on the emulated boards: built with PlatformIO around a freshly converted model, booted in
QEMU, and checked over the serial protocol byte for byte against the host TFLM interpreter."""
import pytest

from mobilenet_tiny.device.board import get_board
from mobilenet_tiny.device.emulator import Emulator
from mobilenet_tiny.device.link import DeviceLink
from mobilenet_tiny.device.serial_test import run_serial_test
from mobilenet_tiny.errors import UserError

pytestmark = pytest.mark.qemu

N_IMAGES = 60


@pytest.mark.parametrize("env", ["qemu_m4", "qemu_m7", "qemu_m55", "qemu_rv32"])
def test_device_outputs_equal_host_tflm(env, build_for, small_model_bytes, test_images):
    build = build_for(env)
    board = get_board(env)
    assert 0 < build.flash_bytes <= board.flash_bytes and 0 < build.ram_bytes <= board.ram_bytes
    images, labels = test_images[0][:N_IMAGES], test_images[1][:N_IMAGES]
    with Emulator(board, build.firmware, time_limit=600) as qemu, DeviceLink(qemu.url, timeout=60) as link:
        link.sync()
        report = run_serial_test(link, small_model_bytes, images, labels)
    assert report.count == N_IMAGES
    assert report.mismatches == [], "\n".join(report.summary_lines())
    assert report.device_correct == report.host_correct  # same bytes, so the same accuracy
    assert report.host_correct > N_IMAGES // 2  # the model is trained: outputs depend on the image
    assert h_labels_ok(report.hello)
    h = report.hello
    # minstret counts instructions, the 25 MHz SysTick 40 of them; the M55's 32 MHz one (31.25) is reported in them
    ticks_are = 1 if board.arch == "riscv32" or env == "qemu_m55" else 40
    assert (h.board, h.runtime, h.input_shape, h.instructions_per_tick) == (env, "compiled", (32, 32, 1), ticks_are)
    assert h.arena_bytes == build.arena_bytes and h.model_sha256 == build.facts.sha256
    assert h.cpu_hz == board.clock_hz
    assert min(report.latency_ticks) * ticks_are > 40_000
    assert "ms at" in "\n".join(report.summary_lines())


def h_labels_ok(hello) -> bool:
    return hello.labels == ("dark", "dim", "bright", "light")


@pytest.mark.parametrize("env,spread", [("qemu_m4", 1), ("qemu_rv32", 0)])
def test_instruction_count_repeats(build_for, test_images, env, spread):
    """Under -icount the same image costs the same instructions: to one 40-instruction SysTick tick on the
    Arm boards, exactly (minstret) on RISC-V, also after the board slept in WFI between requests."""
    import time

    build = build_for(env)
    image = test_images[0][0]
    with Emulator(get_board(env), build.firmware, time_limit=300) as qemu, DeviceLink(qemu.url, timeout=60) as link:
        link.sync()
        ticks = [link.infer(image).latency_ticks for _ in range(3)]
        time.sleep(0.5)  # idle: QEMU's virtual clock follows real time (sleep=on) while the guest waits
        ticks += [link.infer(image).latency_ticks for _ in range(2)]
    assert max(ticks) - min(ticks) <= spread, ticks


def _with_changed_weights(model_bytes: bytes) -> bytes:
    """The same model with its largest weight buffer perturbed: same shapes, different outputs."""
    import tflite

    data = bytearray(model_bytes)
    model = tflite.Model.GetRootAsModel(data, 0)
    biggest = max((model.Buffers(i) for i in range(model.BuffersLength())), key=lambda b: b.DataLength())
    weights = biggest.DataAsNumpy()  # a view into `data`
    weights[::3] ^= 0x5A
    return bytes(data)


def test_serial_test_detects_different_outputs(build_for, small_model_bytes, test_images):
    """The comparison can fail: against a host model with other weights, mismatches are reported."""
    other = _with_changed_weights(small_model_bytes)
    assert other != small_model_bytes
    build = build_for("qemu_m4")
    with Emulator(get_board("qemu_m4"), build.firmware, time_limit=300) as qemu, DeviceLink(qemu.url, timeout=60) as link:
        link.sync()
        with pytest.raises(UserError, match="runs model .*not this one"):
            run_serial_test(link, other, test_images[0][:2])
        report = run_serial_test(link, other, test_images[0][:10], require_same_model=False)
    assert not report.ok and len(report.mismatches) >= 5
    assert "MISMATCHES" in "\n".join(report.summary_lines())

