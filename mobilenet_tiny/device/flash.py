"""`mobilenet-tiny flash`: put the built firmware on the board. Real boards: PlatformIO's upload. QEMU
boards: boot the emulator with the UART on a TCP socket and tell the user its socket:// URL."""
from pathlib import Path

from ..errors import UserError
from .board import get_board
from .emulator import DEFAULT_TIME_LIMIT_S, Emulator, start_background, stop_background
from .firmware_build import run_pio


def default_project_dir(board_env: str) -> Path:
    return Path("build") / "firmware" / board_env


def firmware_elf(board_env: str, project_dir=None) -> Path:
    project = Path(project_dir or default_project_dir(board_env))
    elf = project / ".pio" / "build" / board_env / "firmware.elf"
    if not elf.is_file():
        raise UserError(f"no firmware for {board_env} in {project}: run `mobilenet-tiny firmware build "
                        f"--board {board_env} --model MODEL` first")
    return elf


def _tcp_port(port: str | None) -> int | None:
    if port is None:
        return None
    text = port.removeprefix("socket://").rpartition(":")[2]
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise UserError(f"--port for an emulated board is a TCP port (e.g. 5555 or socket://127.0.0.1:5555), got {port!r}")
    return int(text)


def flash(board_env: str, *, port: str | None = None, project_dir=None, background: bool = False,
          time_limit: float = DEFAULT_TIME_LIMIT_S, out=print) -> str | None:
    """Returns the URL to talk to (emulated boards) or None (real boards, after the upload)."""
    board = get_board(board_env)
    if not board.emulated:
        project = Path(project_dir or default_project_dir(board_env))
        if not (project / "platformio.ini").is_file():
            raise UserError(f"no firmware project for {board_env} in {project}: run `mobilenet-tiny firmware build` first")
        extra = {"PLATFORMIO_UPLOAD_PORT": port} if port else {}
        run_pio(project, board.env, "upload", extra_env=extra)
        out(f"uploaded to {board.env}" + (f" on {port}" if port else ""))
        return None
    elf = firmware_elf(board_env, project_dir)
    if background:
        emu = start_background(board, elf, port=_tcp_port(port), time_limit=time_limit)
        out(f"QEMU {board.qemu_machine} running {elf} in the background (pid {emu.process.pid}, stops after "
            f"{time_limit:g} s or with `mobilenet-tiny flash --board {board.env} --stop`)")
        out(emu.url)
        return emu.url
    emu = Emulator(board, elf, port=_tcp_port(port), time_limit=time_limit).start()
    out(f"QEMU {board.qemu_machine} running {elf}; serial port (Ctrl-C stops):")
    out(emu.url)
    try:
        emu.process.wait()
    finally:  # Ctrl-C is the way to stop it; the CLI reports that
        emu.stop()
    return emu.url


def stop(board_env: str, out=print) -> bool:
    board = get_board(board_env)
    stopped = stop_background(board)
    out(f"stopped the {board.env} emulator" if stopped else f"no background emulator for {board.env}")
    return stopped
