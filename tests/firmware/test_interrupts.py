"""Ctrl-C in every command: exit 130, one line saying what was kept, no traceback, no output left behind;
also twice in a row, and during interpreter shutdown (atexit handlers, a thread being joined)."""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from interrupt_harness import CLI, after_seconds, assert_interrupted, run_interrupted, tree_hashes, when_exists
from mobilenet_tiny.device.emulator import free_tcp_port

pytestmark = pytest.mark.qemu


def _first_line_when(fragment):
    return lambda out, err: fragment in out or fragment in err


@pytest.fixture
def dummy_device():
    """A TCP server that prints a banner to whoever connects, then stays silent: a board for `monitor`."""
    server = socket.create_server(("127.0.0.1", 0))
    conns = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conns.append(conn)
            conn.sendall(b"\r\nmobilenet-tiny on a test socket\r\n\x00")  # the delimiter ends the text

    threading.Thread(target=serve, daemon=True).start()
    yield f"socket://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for c in conns:
        c.close()


@pytest.mark.parametrize("command", ["info", "evaluate", "convert", "compile", "train", "demo", "firmware build",
                                     "bench", "serial-test", "monitor"])
def test_ctrl_c_in_every_command(tmp_path, command, small_model_path, image_folder, dummy_device):
    closed_port = f"socket://127.0.0.1:{free_tcp_port()}"  # nobody listens: the link retries for seconds
    staging_dir = "build/firmware/.qemu_m4.mobilenet-tiny-staging-*/src/model/model.c"
    args, when, message = {
        "info": (["info", "--arch", "v2"], after_seconds(1.0), None),
        "evaluate": (["evaluate", small_model_path, "--data", image_folder], after_seconds(0.3), None),
        "convert": (["convert", small_model_path, "--data", image_folder, "--out", "out"],
                    when_exists(tmp_path, "out/.mobilenet-tiny-staging-*"), None),
        "compile": (["compile", small_model_path, "-o", "out"], after_seconds(0.2), None),
        "train": (["train", "--data", image_folder, "--input", "32x32x1", "--epochs", "1", "--out", "out"],
                  after_seconds(2.0), "interrupted; out keeps its completed epochs (continue with --resume)"),
        "demo": (["demo", "--out", "out", "--epochs", "1", "--qat-epochs", "0", "--data", image_folder],
                 after_seconds(2.0), "interrupted; out keeps the steps that finished (run the demo again to continue)"),
        "firmware build": (["firmware", "build", "--board", "qemu_m4", "--model", small_model_path],
                           when_exists(tmp_path, staging_dir), None),
        "bench": (["bench", "--board", "qemu_m4", "--model", small_model_path, "--out", "fw"],
                  when_exists(tmp_path, ".fw.mobilenet-tiny-staging-*/compiled/model/model.c"), None),
        "serial-test": (["serial-test", "--port", closed_port, "--model", small_model_path, "--data", image_folder],
                        after_seconds(3.0), None),
        "monitor": (["monitor", "--port", dummy_device], _first_line_when("text: mobilenet-tiny on a test"), None),
    }[command]
    r = run_interrupted(args, when, cwd=tmp_path)
    assert r.fired, (r.returncode, r.stdout[-500:], r.stderr[-500:])
    assert_interrupted(r, message or "interrupted; nothing was written")
    if message is None:  # nothing written: no output folder, no staging directory, nothing at all
        assert tree_hashes(tmp_path) == {}, sorted(tree_hashes(tmp_path))


def test_ctrl_c_twice(tmp_path, small_model_path, image_folder):
    """A second Ctrl-C while the first one unwinds changes nothing: the same single line, exit 130."""
    proc = subprocess.Popen([CLI, "convert", str(small_model_path), "--data", str(image_folder), "--out", "out"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while not any((tmp_path / "out").glob(".mobilenet-tiny-staging-*")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted; nothing was written" and "Traceback" not in err, err
    assert tree_hashes(tmp_path) == {}


@pytest.mark.parametrize("slow_exit", [
    "import atexit, time; atexit.register(time.sleep, 60)",  # an atexit handler that takes its time
    "import threading, time; threading.Thread(target=time.sleep, args=(60,)).start()",  # a thread to join
])
def test_ctrl_c_during_shutdown(slow_exit):
    """Python prints "Exception ignored in atexit callback" / a traceback from threading._shutdown and
    exits 0 when Ctrl-C lands while the interpreter shuts down (TensorFlow's handlers and threads take a
    while): the CLI ends at once with 130 and one line instead."""
    code = f"{slow_exit}\nfrom mobilenet_tiny.cli import main\nmain(['info', '--classes', '3'])"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    out = ""
    deadline = time.monotonic() + 120
    while "peak int8 activation memory" not in out and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out += line
    rest_deadline = time.monotonic() + 0.5
    while time.monotonic() < rest_deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the command did not get to its slow exit"
    os.killpg(proc.pid, signal.SIGINT)
    rest, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (proc.returncode, err)
    # (On a machine so loaded that the command had not quite returned yet, the line says it completed.)
    assert err.strip().splitlines() in (["interrupted while exiting; the command had finished"],
                                        ["interrupted; the command had completed all the same"]), err


def test_ctrl_c_stops_a_foreground_emulator(tmp_path, build_for):
    """`flash` on a QEMU board runs until Ctrl-C: then the emulator is stopped, and the line says so."""
    build = build_for("qemu_m4")
    port = free_tcp_port()
    r = run_interrupted(["flash", "--board", "qemu_m4", "--project", build.project_dir, "--port", port],
                        _first_line_when(f"socket://127.0.0.1:{port}"), cwd=tmp_path)
    assert r.fired
    assert_interrupted(r, "interrupted; the emulator was stopped")
    from mobilenet_tiny.device.emulator import _listening

    deadline = time.monotonic() + 10
    while _listening(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _listening(port)


@pytest.mark.parametrize("moment", ["copying", "model written", "compiling", "linked"])
def test_ctrl_c_during_firmware_build_keeps_the_old_project(tmp_path, small_model_path, moment):
    """The project (sources, model files, firmware.elf) is entirely the old one after Ctrl-C at any moment of
    a `firmware build`: the new one is made in a hidden sibling that replaces it only at the end."""
    new_model = tmp_path / "new" / "model.tflite"
    new_model.parent.mkdir()
    new_model.write_bytes(small_model_path.read_bytes())
    (new_model.parent / "labels.json").write_text('["a", "b", "c", "d"]')  # other labels: another project
    r = run_interrupted(["firmware", "build", "--board", "qemu_m4", "--model", small_model_path, "--out", "fw"],
                        lambda *_: False, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    before = tree_hashes(tmp_path / "fw")
    staging = ".fw.mobilenet-tiny-staging-*/"
    when = {"copying": when_exists(tmp_path, staging),
            "model written": when_exists(tmp_path, staging + "src/model/model_meta.c"),
            "compiling": when_exists(tmp_path, staging + ".pio/build/qemu_m4/src"),
            "linked": when_exists(tmp_path, staging + ".pio/build/qemu_m4/firmware.elf")}[moment]
    r = run_interrupted(["firmware", "build", "--board", "qemu_m4", "--model", new_model, "--out", "fw"], when,
                        cwd=tmp_path)
    finished = not r.fired or "while exiting" in r.stderr or "written in full first" in r.last_line
    if not finished:
        assert_interrupted(r)
        assert tree_hashes(tmp_path / "fw") == before
    else:  # the project was replaced before the signal took effect (linking is the last step): all new
        assert moment == "linked" and r.returncode in (0, 130, -signal.SIGINT), r.stderr
        after = tree_hashes(tmp_path / "fw")
        assert after["src/model/model_meta.c"] != before["src/model/model_meta.c"]
        assert after[".pio/build/qemu_m4/firmware.elf"] != before[".pio/build/qemu_m4/firmware.elf"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fw", "new"]


def test_ctrl_c_while_the_cli_is_imported():
    """A signal between the CLI's first line and its command (click being imported, say): recorded, then
    reported by main() like any other, not a KeyboardInterrupt traceback out of an import."""
    code = ("import os, signal\nimport mobilenet_tiny.interrupts as interrupts\ninterrupts.install()\n"
            "os.kill(os.getpid(), signal.SIGINT)  # lands while the rest of the CLI is still to be imported\n"
            "from mobilenet_tiny.cli import main\nmain(['info'])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 130, r.stderr
    assert r.stderr.splitlines() == ["interrupted; nothing was written"], r.stderr
