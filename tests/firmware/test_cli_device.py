"""The device commands as a user runs them: firmware build, flash --background, monitor, serial-test,
flash --stop; and their one-line errors."""
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


@pytest.mark.parametrize("args,message", [
    (["firmware", "build", "--board", "uno", "--model", "m.tflite"], "unknown board 'uno'"),
    (["firmware", "build", "--board", "qemu_m4", "--model", "missing.tflite"], "model not found"),
    (["firmware", "build", "--board", "qemu_m4", "--model", "m.tflite"], "is not a TFLite model"),
    (["firmware", "build", "--board", "qemu_m4", "--model", "MODEL", "--runtime", "tflm"], "no TFLM tree: run `mobilenet-tiny tflm-tree`"),
    (["firmware", "build", "--board", "qemu_m4", "--model", "MODEL", "--kernels", "cmsis-nn"], "--kernels and --arena-bytes are TFLM options"),
    (["bench", "--board", "qemu_m4", "--model", "MODEL", "--runtime", "compiled,tlfm"], "unknown runtime 'tlfm'"),
    (["firmware", "build", "--board", "qemu_m4", "--model", "MODEL", "--out", "occupied"], "was not made by `firmware build`"),
    (["flash", "--board", "qemu_m7", "--project", "nowhere"], "no firmware for qemu_m7"),
    (["bench", "--board", "esp32dev", "--model", "m.tflite"], "choose an emulated board"),
    (["serial-test", "--port", "/dev/ttyNOPE0", "--model", "m.tflite", "--data", "d"], "not a TFLite model"),
    (["firmware", "build", "--board", "qemu_m4", "--model", "cut.tflite"], "TFLM cannot load the model"),
    (["serial-test", "--port", "/dev/ttyNOPE0", "--model", "cut.tflite", "--data", "d"], "TFLM cannot load the model"),
])
def test_bad_input_is_one_line(tmp_path, args, message, small_model_path, monkeypatch):
    (tmp_path / "m.tflite").write_bytes(b"not a model at all")
    (tmp_path / "cut.tflite").write_bytes(small_model_path.read_bytes()[:3000])  # header intact, body cut
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "keep.txt").write_text("a user's file")
    monkeypatch.delenv("MTK_TFLM_DIR", raising=False)
    monkeypatch.setenv("MOBILENET_TINY_CACHE", str(tmp_path / "empty-cache"))  # no TFLM tree there
    args = [str(small_model_path) if a == "MODEL" else a for a in args]
    result = cli(*args, cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not (tmp_path / "build").exists() or not any((tmp_path / "build").rglob("*.elf"))
    assert sorted(p.name for p in (tmp_path / "occupied").iterdir()) == ["keep.txt"]


def test_serial_test_on_a_port_that_does_not_exist(tmp_path, small_model_path, image_folder):
    result = cli("serial-test", "--port", "/dev/ttyNOPE0", "--model", small_model_path, "--data", image_folder,
                 cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot open serial port /dev/ttyNOPE0") and result.stderr.count("\n") == 1


def test_bench_counts_instructions(tmp_path, small_model_path):
    import json

    result = cli("bench", "--board", "qemu_m4", "--model", small_model_path, "--runs", 3, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    numbers = json.loads(result.stdout)
    assert numbers["board"] == "qemu_m4" and numbers["runs"] == 3 and numbers["macs"] > 100_000
    (row,) = numbers["rows"]
    assert row["runtime"] == "compiled" and row["ratio_instructions"] == 1.0
    assert row["instructions_per_inference"] > numbers["macs"] * 0.5  # at least ~one instruction per 2 MACs
    assert row["instructions_per_inference"] % 40 == 0  # whole SysTick ticks of 40 instructions
    assert 0 < row["arena_bytes"] < row["static_ram_bytes"] < row["ram_bytes"] < 256 * 1024
    assert row["ram_bytes"] == row["static_ram_bytes"] + row["stack_bytes"] and row["stack_bytes"] > 100
