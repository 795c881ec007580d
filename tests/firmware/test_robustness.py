"""Bad input never wedges the device: ≥ 1,000 malformed frames, each answered (or skipped) while the device
keeps serving, then a valid infer that is still byte-exact; and a host that loses its device mid-test
stops with a one-line error instead of hanging."""
import subprocess
import sys
import time

import numpy as np
import pytest

from mobilenet_tiny.device.board import get_board
from mobilenet_tiny.device.emulator import Emulator
from mobilenet_tiny.device.fuzz import KINDS, fuzz
from mobilenet_tiny.device.link import DeviceGone, DeviceLink, DeviceTimeout
from mobilenet_tiny.interpreters import TflmInterpreter, quantize_pixels

pytestmark = pytest.mark.qemu

N_MALFORMED = 1200


@pytest.mark.parametrize("env,runtime", [("qemu_m4", None), ("qemu_rv32", None),
                                         pytest.param("qemu_m4", "tflm", marks=pytest.mark.tflm, id="qemu_m4-tflm")])
def test_malformed_frames_then_valid_infer(build_for, small_model_bytes, test_images, env, runtime):
    """Every kind of malformed frame (fuzz.KINDS), each followed by a ping that must come back, with the
    error codes PROTOCOL.md allows; valid infers in between stay byte-exact with host TFLM. On the
    compiled runtime and on TFLM (reference kernels)."""
    build = build_for(env, runtime)
    host = TflmInterpreter(small_model_bytes)
    images = iter(test_images[0])

    def exact_infer(link):
        image = next(images)
        expected = host.run(quantize_pixels(image, host.input_details)).reshape(-1)
        return bool(np.array_equal(link.infer(image).output, expected))

    with Emulator(get_board(env), build.firmware, time_limit=600) as qemu, \
            DeviceLink(qemu.url, timeout=30) as link:
        link.sync()
        result = fuzz(link, N_MALFORMED, seed=0, infer_every=100, infer_check=exact_infer)
        assert exact_infer(link)
    assert result.frames == N_MALFORMED and result.hangs == 0, result.summary_lines()
    assert result.wrong_replies == [], result.wrong_replies[:5]
    assert set(result.kinds) == set(KINDS)
    assert sum(result.error_replies.values()) >= N_MALFORMED * 0.7
    assert result.infers_exact == result.infers_checked == N_MALFORMED // 100


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
