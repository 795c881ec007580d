"""The device commands as a user runs them: firmware build, flash --background, monitor, serial-test,
flash --stop. Their bad inputs are in test_bad_input_walk.py, with every other command's."""
import os
import subprocess
import sys

import pytest

from mobilenet_tiny.device.emulator import free_tcp_port

pytestmark = pytest.mark.qemu


def cli(*args, cwd, timeout=600, env=None):
    return subprocess.run([sys.executable, "-m", "mobilenet_tiny.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def test_build_flash_monitor_serial_test_stop(tmp_path, small_model_path, image_folder):
    built = cli("firmware", "build", "--board", "qemu_m4", "--model", small_model_path, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "qemu_m4 (compiled): flash" in built.stdout and "RAM" in built.stdout
    port = free_tcp_port()
    # The background emulator's state is per user ($XDG_RUNTIME_DIR), so --stop finds it from any folder;
    # a private one keeps this test apart from other runs on the machine.
    user = {"XDG_RUNTIME_DIR": str(tmp_path / "run")}
    (tmp_path / "run").mkdir()
    (tmp_path / "elsewhere").mkdir()
    started = cli("flash", "--board", "qemu_m4", "--background", "--port", port, "--time-limit", 300, cwd=tmp_path,
                  env=user)
    assert started.returncode == 0, started.stderr
    url = f"socket://127.0.0.1:{port}"
    assert started.stdout.strip().splitlines()[-1] == url
    try:
        watched = cli("monitor", "--port", url, "--duration", 2, cwd=tmp_path)
        assert watched.returncode == 0, watched.stderr
        # QEMU starts the CPU when its first client connects, and the link keeps every byte from the
        # connection on (pyserial's socket port would discard what came before its flush): the first
        # client always sees the boot banner.
        assert "text: mobilenet-tiny on qemu_m4, runtime compiled, model " in watched.stdout
        assert watched.stdout.index("text: mobilenet-tiny") < watched.stdout.index("hello: board qemu_m4")
        assert "hello: board qemu_m4, runtime compiled" in watched.stdout
        assert "labels dark, dim, bright, light" in watched.stdout
        tested = cli("serial-test", "--port", url, "--model", small_model_path, "--data", image_folder,
                     "--limit", 50, cwd=tmp_path)
        assert tested.returncode == 0, tested.stderr
        assert "bit-exact with host TFLM: 50/50" in tested.stdout
        assert "instructions per inference" in tested.stdout
    finally:
        stopped = cli("flash", "--board", "qemu_m4", "--stop", cwd=tmp_path / "elsewhere", env=user)
    assert stopped.returncode == 0 and "stopped the qemu_m4 emulator" in stopped.stdout
    again = cli("flash", "--board", "qemu_m4", "--stop", cwd=tmp_path, env=user)
    assert "no background emulator" in again.stdout


def test_serial_test_on_a_port_that_does_not_exist(tmp_path, small_model_path, image_folder):
    result = cli("serial-test", "--port", "/dev/ttyNOPE0", "--model", small_model_path, "--data", image_folder,
                 cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot open serial port /dev/ttyNOPE0") and result.stderr.count("\n") == 1


@pytest.mark.parametrize("board,tick,ram_kib,clock", [("qemu_m4", 40, 256, 168e6), ("qemu_rv32", 1, 400, 160e6)])
def test_bench_counts_instructions(tmp_path, small_model_path, board, tick, ram_kib, clock):
    import json

    result = cli("bench", "--board", board, "--model", small_model_path, "--runs", 3, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    numbers = json.loads(result.stdout)
    assert numbers["board"] == board and numbers["runs"] == 3 and numbers["macs"] > 100_000
    assert numbers["cpu_hz"] == clock
    (row,) = numbers["rows"]
    assert row["runtime"] == "compiled" and row["ratio_instructions"] == 1.0
    assert row["instructions_per_inference"] > numbers["macs"] * 0.5  # at least ~one instruction per 2 MACs
    assert row["instructions_per_inference"] % tick == 0  # whole ticks: SysTick's 40 instructions, minstret's 1
    assert 0 < row["arena_bytes"] < row["static_ram_bytes"] < row["ram_bytes"] < ram_kib * 1024
    assert row["ram_bytes"] == row["static_ram_bytes"] + row["stack_bytes"] and row["stack_bytes"] > 100
    assert row["ms_per_inference"] == pytest.approx(row["instructions_per_inference"] / clock * 1e3)