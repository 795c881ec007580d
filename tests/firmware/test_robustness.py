"""Bad input never wedges the device: ≥ 1,000 malformed frames, each answered (or skipped) while the device
keeps serving, then a valid infer that is still byte-exact; and a host that loses its device mid-test
stops with a one-line error instead of hanging."""
import random
import subprocess
import sys
import time

import numpy as np
import pytest
from cobs import cobs

from mobilenet_tiny.device import protocol
from mobilenet_tiny.device.board import get_board
from mobilenet_tiny.device.emulator import Emulator
from mobilenet_tiny.device.link import DeviceGone, DeviceLink, DeviceTimeout
from mobilenet_tiny.interpreters import TflmInterpreter, quantize_pixels

pytestmark = pytest.mark.qemu

N_MALFORMED = 1200
BAD_CRC, TOO_SHORT, TOO_LONG, BAD_VERSION, UNKNOWN, BAD_LENGTH, BAD_FRAMING = 1, 2, 3, 4, 5, 6, 7


def malformed_frame(rng: random.Random, seq: int, input_bytes: int, max_payload: int):
    """(bytes to send, error codes the device may answer with; empty: any or none)."""
    kind = rng.choice(["random", "truncated", "crc", "oversize", "command", "size", "version", "short", "cobs"])
    if kind == "random":
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) + b"\x00", set()
    if kind == "truncated":
        full = protocol.encode_frame(protocol.INFER, seq, bytes(rng.randrange(256) for _ in range(input_bytes)))
        return full[:rng.randrange(2, len(full) - 1)], {BAD_CRC, BAD_FRAMING, TOO_SHORT}
    if kind == "crc":
        body = bytearray(protocol.frame_body(protocol.PING, seq, b"payload"))
        body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
        return b"\x00" + cobs.encode(bytes(body)) + b"\x00", {BAD_CRC}
    if kind == "oversize":
        if rng.random() < 0.8:  # keep most of them cheap: each costs a transfer of > max_payload bytes
            return protocol.encode_frame(protocol.PING, seq, bytes(range(1, 66))), {BAD_LENGTH}
        return protocol.encode_frame(protocol.INFER, seq, bytes(max_payload + rng.randrange(1, 64))), {TOO_LONG}
    if kind == "command":
        return protocol.encode_frame(rng.choice([0x00, 0x04, 0x7F, 0x81, 0xFF]), seq), {UNKNOWN}
    if kind == "size":
        n = rng.choice([0, 1, input_bytes - 1, input_bytes // 2])
        return protocol.encode_frame(protocol.INFER, seq, bytes(n)), {BAD_LENGTH}
    if kind == "version":
        return protocol.encode_frame(protocol.HELLO, seq, version=rng.choice([0, 2, 255])), {BAD_VERSION}
    if kind == "short":
        return b"\x00" + cobs.encode(bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 7)))) + b"\x00", {TOO_SHORT}
    return b"\x00\x20abc\x00", {BAD_FRAMING}  # a COBS block promising 31 bytes in a 3-byte frame


@pytest.mark.parametrize("runtime", ["compiled", pytest.param("tflm", marks=pytest.mark.tflm)])
def test_malformed_frames_then_valid_infer(runtime, build_for, small_model_bytes, test_images):
    build = build_for("qemu_m4", runtime)
    rng = random.Random(0)
    host = TflmInterpreter(small_model_bytes)
    with Emulator(get_board("qemu_m4"), build.firmware, time_limit=600) as qemu, \
            DeviceLink(qemu.url, timeout=30) as link:
        link.sync()
        hello = link.hello()
        errors_seen = 0
        for i in range(N_MALFORMED):
            seq = link.next_seq()
            data, expected = malformed_frame(rng, seq, hello.input_bytes, hello.max_payload)
            link.unsolicited.clear()
            link.send_raw(data)
            # A ping after each bad frame: its answer proves the device is still serving, and every reply
            # to the bad frame arrives before it.
            assert link.ping(b"alive %d" % i) == b"alive %d" % i
            codes = {protocol.parse_error(f.payload).code for f in link.unsolicited if f.type == protocol.ERROR}
            if expected:
                assert codes & expected, f"frame {i} {data[:40].hex()}: expected one of {expected}, got {codes}"
            errors_seen += len(codes)
        assert errors_seen >= N_MALFORMED * 0.7
        image, _ = test_images[0][3], test_images[1][3]
        result = link.infer(image)
    expected_out = host.run(quantize_pixels(image, host.input_details)).reshape(-1)
    np.testing.assert_array_equal(result.output, expected_out)


def test_host_gives_one_line_error_when_qemu_dies(build_for, small_model_path, image_folder):
    """QEMU killed in the middle of a serial-test: the CLI stops quickly, exit 1, one line on stderr."""
    build = build_for("qemu_m4")
    with Emulator(get_board("qemu_m4"), build.firmware, time_limit=300) as qemu:
        cli = subprocess.Popen(
            [sys.executable, "-m", "mobilenet_tiny.cli", "serial-test", "--port", qemu.url, "--model",
             str(small_model_path), "--data", str(image_folder), "--timeout", "5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not _client_connected(qemu.port) and time.monotonic() < deadline and cli.poll() is None:
            time.sleep(0.1)
        time.sleep(2)  # sync, hello, then inferences are under way
        assert cli.poll() is None, cli.communicate()
        qemu.stop()
        killed_at = time.monotonic()
        try:
            _, err = cli.communicate(timeout=30)
        finally:
            cli.kill()
    assert cli.returncode == 1
    assert time.monotonic() - killed_at < 10
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    assert "device" in lines[0]


def test_link_to_dead_device_raises_cleanly(build_for):
    build = build_for("qemu_m4")
    with Emulator(get_board("qemu_m4"), build.firmware, time_limit=120) as qemu:
        link = DeviceLink(qemu.url, timeout=3)
        link.sync()
        qemu.stop()
        start = time.monotonic()
        with pytest.raises((DeviceGone, DeviceTimeout)) as err:
            link.hello()
        link.close()
    assert time.monotonic() - start < 5
    assert "\n" not in str(err.value)


def _client_connected(port: int) -> bool:
    """QEMU's server socket on `port` has an ESTABLISHED connection (state 01 in /proc/net/tcp)."""
    with open("/proc/net/tcp") as f:
        return any(fields[1].endswith(f":{port:04X}") and fields[3] == "01"
                   for fields in (line.split() for line in f.readlines()[1:]))
