"""QEMU as a board: boot a firmware ELF with its UART on a local TCP socket, always under a time limit,
and stop it by PID.

    with Emulator(board, elf) as qemu:
        link = DeviceLink(qemu.url)

QEMU's -icount shift=0 makes one instruction one virtual nanosecond, so latencies are exact instruction
counts (board.timer: SysTick on the Arm boards, minstret on RISC-V). `sleep=on` lets the virtual clock
follow real time while the guest waits in WFI, so an idle board costs no host CPU; with `sleep=off` QEMU
jumps the clock to the next timer deadline instead, and the guest wakes at once, over and over (a full
core, measured). Executed code is counted the same either way: the clock only moves by real time while
the CPU is halted, never during an inference.
"""
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from ..errors import UserError
from ..fileio import atomic_write
from .board import Board

DEFAULT_TIME_LIMIT_S = 3600


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ICOUNT = "shift=0,align=off,sleep=on"


def qemu_command(board: Board, elf: Path, port: int | None = None, *, serial: str | None = None) -> list[str]:
    """The emulator command line (firmware/platforms/qemu/builder/main.py has the same for `pio run -t
    upload`), with the UART on a TCP server socket at `port`, or on the QEMU chardev `serial` (e.g.
    file:PATH for a benchmark image that writes its results and exits). Arm boards exit through
    semihosting; the RISC-V virt board boots without firmware (-bios none) and exits through its test device."""
    if not board.emulated:
        raise UserError(f"{board.env} is a real board, not an emulated one")
    machine = ["-M", board.qemu_machine] + (
        ["-bios", "none"] if board.arch == "riscv32" else ["-semihosting-config", "enable=on,target=native"])
    serial = serial or f"tcp:127.0.0.1:{port},server=on,wait=on,nodelay=on"
    return [board.qemu_system, *machine, "-nographic", "-monitor", "none", "-icount", ICOUNT,
            "-serial", serial, "-kernel", str(elf)]


class Emulator:
    """One QEMU process. It waits for a client on `url` before the CPU starts, so nothing is missed."""

    def __init__(self, board: Board, elf, *, port: int | None = None, time_limit: float = DEFAULT_TIME_LIMIT_S,
                 log_path=None):
        if shutil.which(board.qemu_system) is None:
            package = "qemu-system-misc" if board.arch == "riscv32" else "qemu-system-arm"
            raise UserError(f"{board.qemu_system} not found on PATH (Debian: apt-get install {package})")
        self.board, self.elf = board, Path(elf)
        if not self.elf.is_file():
            raise UserError(f"firmware not found: {self.elf} (run `mobilenet-tiny firmware build` first)")
        self.port = port or free_tcp_port()
        self.time_limit = time_limit
        self.log_path = Path(log_path) if log_path else None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self.port}"

    def start(self, detach: bool = False) -> "Emulator":
        # `timeout` ends QEMU even if this Python process dies without stopping it.
        cmd = ["timeout", "--kill-after=5", f"{self.time_limit:g}", *qemu_command(self.board, self.elf, self.port)]
        out = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        self._wait_listening(10.0)
        return self

    def _wait_listening(self, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise UserError(f"QEMU exited at start (code {self.process.returncode}); "
                                f"command: {' '.join(qemu_command(self.board, self.elf, self.port))}")
            # QEMU's server socket shows up in /proc/net/tcp as LISTEN (state 0A) on our port; probing by
            # connecting would itself become QEMU's one client.
            if _listening(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise UserError(f"QEMU did not open its serial port {self.port} within {timeout:g} s")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def qemu_pid(self) -> int:
        """QEMU's own process id (self.process is the `timeout` wrapper around it)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if not children:
            raise UserError(f"QEMU is not running (exit code {self.process.poll()})")
        return int(children[0])

    def cpu_seconds(self) -> float:
        """Host CPU time QEMU has used so far (all its threads, user + system), from /proc."""
        return process_cpu_seconds(self.qemu_pid())

    def stop(self, grace: float = 2.0) -> int | None:
        """Stop QEMU (its whole process group, which this object created) and return its exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def process_cpu_seconds(pid: int) -> float:
    # /proc/PID/stat fields 14 and 15 (utime, stime) in clock ticks; the command name may contain spaces.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _listening(port: int) -> bool:
    want = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[1].endswith(want) and fields[3] == "0A":
                return True
    return False


# ---- background emulators for `flash --background` / `flash --stop` ----

def state_dir() -> Path:
    """Per user, not per working directory, so `flash --stop` finds the emulator wherever it is run:
    $XDG_RUNTIME_DIR/mobilenet-tiny (the per-user runtime directory, emptied at logout), else
    $XDG_CACHE_HOME (~/.cache)/mobilenet-tiny/emulators."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "mobilenet-tiny"
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "mobilenet-tiny" / "emulators"


def state_file(board: Board) -> Path:
    return state_dir() / f"{board.env}.json"


def start_background(board: Board, elf, port: int | None = None, time_limit: float = DEFAULT_TIME_LIMIT_S) -> Emulator:
    stop_background(board)
    state_file(board).parent.mkdir(parents=True, exist_ok=True)
    emu = Emulator(board, elf, port=port, time_limit=time_limit, log_path=state_file(board).with_suffix(".log"))
    try:
        emu.start()
        atomic_write(state_file(board), json.dumps({"pid": emu.process.pid, "port": emu.port,
                                                    "elf": str(emu.elf.resolve())}))
    except BaseException:  # Ctrl-C while starting: no emulator nobody can find to stop
        emu.stop()
        raise
    return emu


def stop_background(board: Board) -> bool:
    """Stop the emulator `flash --background` started for this board; False if none was running."""
    path = state_file(board)
    if not path.exists():
        return False
    try:
        pid = int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        path.unlink(missing_ok=True)
        return False
    stopped = False
    try:
        # Only a process group we started: its leader is our `timeout` wrapper around QEMU.
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if cmdline and cmdline[0].endswith(b"timeout") and board.qemu_system.encode() in cmdline:
            os.killpg(pid, signal.SIGTERM)
            stopped = True
    except (OSError, ProcessLookupError):
        pass
    path.unlink(missing_ok=True)
    return stopped
