"""Cycles of a code window in an ELF run under QEMU: the executed stream (stream.py) × each instruction's
Cortex-M4 timing in its context (cortex_m4.py), per window (one call of the begin function) and segment."""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from . import cortex_m4 as m4
from .decode import Instruction, disassemble
from .stream import Stream, record_stream


@dataclass
class Estimate:
    """One window or segment: QEMU's instruction count and what the models make of it."""
    instructions: int = 0
    cycles: int = 0               # Cortex-M4 model, zero wait states
    beats: int = 0                # Cortex-M55 view: an MVE instruction two (a gather one a lane), any other one
    vector_instructions: int = 0  # MVE instructions among `instructions`

    def __iadd__(self, other: "Estimate") -> "Estimate":
        self.instructions += other.instructions
        self.cycles += other.cycles
        self.beats += other.beats
        self.vector_instructions += other.vector_instructions
        return self

    def ms(self, clock_hz: float, count: str = "cycles") -> float:
        return getattr(self, count) / clock_hz * 1e3


# The figure `bench --cycles` reports for a board (Board.cycle_model): the Estimate field and its label.
CYCLE_MODELS = {
    "m4": ("cycles", "estimated cycles at Cortex-M4 timings (TRM, zero wait states)"),
    "m55-beats": ("beats", "estimated Cortex-M55 beats (an MVE instruction 2, a gather or scatter 1 a lane, any other 1)"),
}


@dataclass
class WindowEstimate:
    total: Estimate
    segments: list[Estimate] = field(default_factory=list)


def symbols(elf: Path) -> dict[str, int]:
    nm = shutil.which("arm-none-eabi-nm")
    if nm is None:
        raise UserError("arm-none-eabi-nm not found (Debian: apt-get install binutils-arm-none-eabi)")
    text = subprocess.run([nm, str(elf)], capture_output=True, text=True, check=True).stdout
    table = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtWw":
            table[parts[2]] = int(parts[0], 16) & ~1  # a Thumb function's address without its mode bit
    return table


def call_returns(elf: Path, target: int) -> list[int]:
    """Return addresses of every direct call (BL) to `target` in the ELF."""
    returns = []
    for insn in disassemble(elf).values():
        if insn.mnemonic == "bl" and re.fullmatch(r"[0-9a-f]+", insn.operands) and int(insn.operands, 16) == target:
            returns.append(insn.vaddr + insn.size)
    return sorted(returns)


class Timing:
    """Per-address timing facts of one ELF, each instruction classified once."""

    def __init__(self, elf: Path):
        self.table: dict[int, Instruction] = disassemble(elf)
        self._timed: dict[int, m4.Timed] = {}

    def timed(self, vaddr: int, size: int, stored: str) -> m4.Timed:
        t = self._timed.get(vaddr)
        if t is None:
            insn = self.table.get(vaddr)
            # QEMU 7.2 may record the halfword after a block's last instruction too (its page-crossing
            # check reads it): the ELF's bytes must begin what the plugin saw
            if insn is None or insn.size > size or not stored.startswith(insn.hex):
                raise RuntimeError(f"QEMU executed {stored} at {vaddr:#x}, which the ELF's disassembly does not "
                                   f"hold ({insn.hex if insn else 'nothing'}): wrong ELF for this run?")
            t = self._timed[vaddr] = m4.classify(insn)
        return t

    def preceding(self, vaddr: int) -> m4.Timed | None:
        """The instruction that ends where `vaddr` begins (the one a fall-through entry comes from)."""
        for size in (2, 4):
            insn = self.table.get(vaddr - size)
            if insn is not None and insn.size == size:
                return self.timed(insn.vaddr, insn.size, insn.hex)
        return None


def estimate_stream(stream: Stream, timing: Timing) -> list[WindowEstimate]:
    blocks = {}

    def facts(block_id: int):
        """(timed instructions, body cycles, fall-through adjustment of the first one, beats, vectors)."""
        if block_id not in blocks:
            b = stream.blocks[block_id]
            timed = [timing.timed(v, s, h) for v, s, h in b.insns]
            body = m4.block_cycles(timed)
            first, before = timed[0], timing.preceding(b.vaddr)
            adjust = 0
            if before is not None and not (first.kind == "branch" and first.conditional):
                adjust = m4.cycles_in_context(first, before) - m4.cycles_in_context(first, None)
            blocks[block_id] = (timed, body, adjust, sum(m4.beats(t) for t in timed),
                                sum(m4.is_vector(t) for t in timed))
        return blocks[block_id]

    windows = []
    for segments in stream.windows:
        estimates = []
        for seg in segments:
            e = Estimate()
            for block_id, (execs, seq) in seg.counts.items():
                timed, body, adjust, beat, vectors = facts(block_id)
                e.instructions += execs * len(timed)
                e.cycles += execs * body + seq * adjust
                e.beats += execs * beat
                e.vector_instructions += execs * vectors
            for src, dst, count in seg.edges:
                last = facts(src)[0][-1]
                v, s, h = stream.blocks[dst].insns[0]
                if v == last.insn.vaddr + last.insn.size:  # a fall-through the plugin's sizes hid (above)
                    e.cycles += count * facts(dst)[2]
                    continue
                e.cycles += count * m4.taken_extra(last, timing.timed(v, s, h) if v in timing.table else None)
            estimates.append(e)
        total = Estimate()
        for e in estimates:
            total += e
        windows.append(WindowEstimate(total, estimates))
    return windows


def estimate_cycles(elf, qemu_command: list[str], begin_symbol: str, split_symbol: str | None = None,
                    timeout: float = 600, workdir=None) -> tuple[list[WindowEstimate], subprocess.CompletedProcess]:
    """Run the ELF under `qemu_command` and estimate every call of `begin_symbol` (from its entry to the
    return to its caller): instructions as QEMU executed them, Cortex-M4 cycles, M55 beats. With
    `split_symbol`, every call of that function starts a new segment (the per-layer trace hook)."""
    elf = Path(elf)
    syms = symbols(elf)
    if begin_symbol not in syms:
        raise UserError(f"{elf.name} has no function {begin_symbol!r} to time")
    begin = syms[begin_symbol]
    ends = call_returns(elf, begin)
    if not ends:
        raise UserError(f"{elf.name} never calls {begin_symbol!r} directly: nothing to time")
    split = None
    if split_symbol is not None:
        if split_symbol not in syms:
            raise UserError(f"{elf.name} has no function {split_symbol!r} to split at")
        split = syms[split_symbol]
    stream, done = record_stream(qemu_command, begin, ends, split, timeout=timeout, workdir=workdir)
    return estimate_stream(stream, Timing(elf)), done
