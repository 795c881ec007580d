"""The QEMU link: an idle board sleeps (WFI with QEMU's -icount sleep=on) instead of spinning, and still
wakes for the next frame; requests sent back to back, faster than the device handles them, fill the
receive ring and are all answered (the interrupt handler pauses, nothing is lost)."""
import time

import numpy as np
import pytest

from mobilenet_tiny.device import protocol
from mobilenet_tiny.device.board import get_board
from mobilenet_tiny.device.emulator import Emulator
from mobilenet_tiny.device.link import DeviceLink
from mobilenet_tiny.interpreters import TflmInterpreter, quantize_pixels

pytestmark = pytest.mark.qemu

IDLE_SECONDS = 10
IDLE_LIMIT = 0.05  # of one core


def test_idle_board_costs_no_cpu_and_wakes(build_for, small_model_bytes, test_images):
    """Both UART drivers (CMSDK on qemu_m4, NS16550 on qemu_rv32), measured over the same 10 s."""
    envs = ("qemu_m4", "qemu_rv32")
    builds = {env: build_for(env) for env in envs}
    host = TflmInterpreter(small_model_bytes)
    image = test_images[0][5]
    expected = host.run(quantize_pixels(image, host.input_details)).reshape(-1)
    emulators = {env: Emulator(get_board(env), builds[env].firmware, time_limit=300).start() for env in envs}
    try:
        links = {env: DeviceLink(emu.url, timeout=60) for env, emu in emulators.items()}
        for env, link in links.items():
            link.sync()
            np.testing.assert_array_equal(link.infer(image).output, expected)
        time.sleep(0.5)  # let the reply leave before measuring
        before = {env: emu.cpu_seconds() for env, emu in emulators.items()}
        start = time.monotonic()
        time.sleep(IDLE_SECONDS)
        elapsed = time.monotonic() - start
        used = {env: (emu.cpu_seconds() - before[env]) / elapsed for env, emu in emulators.items()}
        assert all(u < IDLE_LIMIT for u in used.values()), f"idle CPU per board (share of a core): {used}"
        for env, link in links.items():  # and it wakes for the next frame
            np.testing.assert_array_equal(link.infer(image).output, expected)
            link.close()
    finally:
        for emu in emulators.values():
            emu.stop()


@pytest.mark.parametrize("env", ["qemu_m4", "qemu_rv32"])
def test_back_to_back_requests_fill_the_ring_and_all_get_answers(env, small_model_path, small_model_bytes,
                                                                 test_images, tmp_path, monkeypatch):
    from mobilenet_tiny.device.firmware_build import build_firmware

    # A 16-byte ring: every inference leaves the following frame's bytes waiting in the UART with the
    # receive interrupt paused, so the pause and resume paths run many times.
    monkeypatch.setenv("PLATFORMIO_BUILD_FLAGS", "-DRX_RING_BYTES=16u")
    build = build_firmware(env, small_model_path, out_dir=tmp_path / "fw", log=lambda *_: None)
    host = TflmInterpreter(small_model_bytes)
    images = test_images[0][:6]
    with Emulator(get_board(env), build.firmware, time_limit=300) as qemu, DeviceLink(qemu.url, timeout=60) as link:
        link.sync()
        seqs = [link.next_seq() for _ in images]
        # One write: while the device runs an inference, the following frames pile up behind it.
        link.send_raw(b"".join(protocol.encode_frame(protocol.INFER, seq, image.tobytes())
                               for seq, image in zip(seqs, images)))
        deadline = time.monotonic() + 60
        replies = [link.read_frame(deadline) for _ in images]
    assert [r.seq for r in replies] == seqs and {r.type for r in replies} == {protocol.INFER | protocol.REPLY}
    for reply, image in zip(replies, images):
        expected = host.run(quantize_pixels(image, host.input_details)).reshape(-1)
        np.testing.assert_array_equal(protocol.parse_infer(reply.payload).output, expected)
