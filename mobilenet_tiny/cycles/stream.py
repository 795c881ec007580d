"""The executed instruction stream of a code window, from QEMU itself: a TCG plugin (stream_plugin.c) built
against the installed QEMU's plugin API, loaded with -plugin, counting block executions and the transitions
between blocks. Built once per plugin-source hash into ~/.cache/mobilenet-tiny/cycles/."""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError

PLUGIN_SOURCE = Path(__file__).with_name("stream_plugin.c")


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mobilenet-tiny" / "cycles"


def plugin_library() -> Path:
    """The plugin as a shared object, compiled with the host's C compiler on first use."""
    source = PLUGIN_SOURCE.read_bytes()
    target = cache_dir() / f"stream_plugin-{hashlib.sha256(source).hexdigest()[:16]}.so"
    if target.is_file():
        return target
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise UserError("the cycle estimate builds a QEMU plugin and needs a host C compiler (apt-get install gcc)")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".so.tmp")
    os.close(fd)
    try:
        done = subprocess.run([cc, "-O2", "-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-o", tmp,
                               str(PLUGIN_SOURCE)], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"building the QEMU stream plugin failed:\n{done.stderr[-2000:]}")
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return target


@dataclass
class Block:
    """One block as QEMU translated it: (address, size, bytes as hex) per instruction."""
    id: int
    vaddr: int
    insns: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass
class Segment:
    counts: dict[int, tuple[int, int]] = field(default_factory=dict)  # block id -> (executions, fall-through entries)
    edges: list[tuple[int, int, int]] = field(default_factory=list)   # (from block, to block, count)


@dataclass
class Stream:
    blocks: dict[int, Block]
    windows: list[list[Segment]]  # per window (inference), its segments (layers, when split)


def parse_stream(text: str) -> Stream:
    blocks: dict[int, Block] = {}
    windows: list[list[Segment]] = []
    current: Block | None = None
    open_window = False
    for line in text.splitlines():
        parts = line.split()
        if not parts:
            continue
        tag = parts[0]
        if tag == "T":
            current = Block(int(parts[1]), int(parts[2], 16))
            blocks[current.id] = current
        elif tag == "I" and current is not None:
            current.insns.append((int(parts[1], 16), int(parts[2]), parts[3]))
        elif tag == "W":
            windows.append([])
            open_window = True
        elif tag == "S" and open_window:  # the segment's counts follow
            windows[-1].append(Segment())
        elif tag == "C" and open_window:
            windows[-1][-1].counts[int(parts[1])] = (int(parts[2]), int(parts[3]))
        elif tag == "X" and open_window:
            windows[-1][-1].edges.append((int(parts[1]), int(parts[2]), int(parts[3])))
        elif tag == "E":
            open_window = False
    if open_window:  # a window that never ended (QEMU stopped inside it) is no measurement
        windows.pop()
    return Stream(blocks, windows)


def record_stream(qemu_command: list[str], begin: int, ends: list[int], split: int | None = None,
                  timeout: float = 600, workdir=None) -> tuple[Stream, subprocess.CompletedProcess]:
    """Run `qemu_command` (a complete QEMU command line for the image) with the plugin counting from each
    execution of the block at `begin` to the next block at one of `ends`; `split` cuts a window into
    segments (every execution of the block there starts a new one)."""
    if not ends:
        raise ValueError("record_stream needs at least one end address")
    library = plugin_library()
    with tempfile.TemporaryDirectory(prefix="mtk-stream-", dir=workdir) as tmp:
        out = Path(tmp) / "stream.txt"
        args = [f"out={out}", f"begin={begin:#x}", *[f"end={e:#x}" for e in ends]]
        if split is not None:
            args.append(f"split={split:#x}")
        cmd = [*qemu_command, "-plugin", ",".join([str(library), *args])]
        try:
            done = subprocess.run(["timeout", "--kill-after=5", f"{timeout:g}", *cmd], capture_output=True, text=True)
        except FileNotFoundError:
            raise UserError(f"{qemu_command[0]} not found on PATH") from None
        if done.returncode == 124:
            raise RuntimeError(f"QEMU did not finish within {timeout:g} s (cycle estimate)")
        if not out.is_file():
            raise RuntimeError(f"QEMU did not load the stream plugin: {done.stderr.strip()[-500:]}")
        return parse_stream(out.read_text()), done
