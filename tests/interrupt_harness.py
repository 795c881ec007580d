"""Run the real `mobilenet-tiny` as a terminal does (its own process group) and send it SIGINT (Ctrl-C) or
SIGTERM at a chosen moment; check what it printed and what it left on disk."""
import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from mobilenet_tiny.fileio import STAGING_TAG

CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    fired: bool  # the signal was sent (False: the command ended before the moment came)

    @property
    def last_line(self) -> str:
        lines = self.stderr.strip().splitlines()
        return lines[-1] if lines else ""


class _Output:
    def __init__(self, stream):
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream):
        for chunk in iter(lambda: stream.readline(), ""):
            self.text += chunk

    def join(self, timeout):
        self._thread.join(timeout)


def run_interrupted(args, when, *, sig=signal.SIGINT, cwd=None, env=None, timeout=600, poll=0.01) -> Run:
    """Start `mobilenet-tiny ARGS`; as soon as when(stdout, stderr) is true, send `sig` to its process
    group (Ctrl-C in a terminal reaches the children too: PlatformIO, the TFLM probe)."""
    proc = subprocess.Popen([CLI, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd, env={**os.environ, **(env or {})}, start_new_session=True)
    out, err = _Output(proc.stdout), _Output(proc.stderr)
    fired = False
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if when(out.text, err.text):
                os.killpg(proc.pid, sig)
                fired = True
                break
            time.sleep(poll)
        proc.wait(max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out.join(10)
    err.join(10)
    return Run(proc.returncode, out.text, err.text, fired)


def after_seconds(seconds: float):
    start = time.monotonic()
    return lambda _out, _err: time.monotonic() - start >= seconds


def when_exists(pattern_root: Path, pattern: str):
    """True once a path matching `pattern` (glob, hidden staging directories included) exists."""
    return lambda _out, _err: any(Path(pattern_root).glob(pattern))


def staging(name: str = "") -> str:
    """Glob for a file inside a staging directory of fileio.output_set."""
    return f"{STAGING_TAG}*/{name}" if name else f"{STAGING_TAG}*"


def tree_hashes(root) -> dict:
    """{relative path: sha256} of every file under root (hidden ones too)."""
    root = Path(root)
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def assert_interrupted(run: Run, message: str = "interrupted; nothing was written", code: int = 130):
    """Exit status 130 (143 for SIGTERM), the one interrupt line last on stderr, no traceback, no error line."""
    assert run.returncode == code, (run.returncode, run.stderr[-2000:])
    assert run.last_line == message, run.stderr[-2000:]
    assert "Traceback" not in run.stdout + run.stderr, run.stderr[-2000:]
    assert not [ln for ln in run.stderr.splitlines() if ln.startswith("error:")], run.stderr[-2000:]
