"""`mobilenet-tiny bench`: instructions per inference on an emulated board, per MAC, arena and flash.

Under QEMU's -icount shift=0 one instruction takes one virtual nanosecond; the Arm boards' SysTick counts
25 MHz (a latency of T ticks is 40·T instructions, to one tick), the RISC-V board reads minstret (exact).
Counts are identical from run to run. QEMU counts instructions, not cycles: it does not model the M4 vs
M7 pipelines, so the ms figure (at the clock of the part the board stands for) is an estimate.
"""
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from .board import BOARDS, get_board
from .emulator import Emulator
from .firmware_build import FirmwareBuild, build_firmware
from .link import DeviceLink


@dataclass
class BenchResult:
    build: FirmwareBuild
    instructions: list[int]
    cpu_hz: int = 0  # the clock `hello` reports, for the ms estimate

    @property
    def median_instructions(self) -> int:
        return int(np.median(self.instructions))

    @property
    def ms_per_inference(self) -> float | None:
        """At the clock of the part the board stands for, one instruction per cycle (an estimate)."""
        return self.median_instructions / self.cpu_hz * 1e3 if self.cpu_hz else None

    @property
    def instructions_per_mac(self) -> float | None:
        return self.median_instructions / self.build.macs if self.build.macs else None

    def as_dict(self) -> dict:
        b = self.build
        return {"board": b.board.env, "runtime": b.runtime, "model_sha256": b.facts.sha256,
                "input_shape": list(b.facts.input_shape), "macs": b.macs,
                "instructions_per_inference": self.median_instructions,
                "instructions_per_mac": self.instructions_per_mac, "cpu_hz": self.cpu_hz,
                "ms_per_inference": self.ms_per_inference, "arena_bytes": b.arena_bytes,
                "flash_bytes": b.flash_bytes, "ram_bytes": b.ram_bytes,
                "runs": len(self.instructions), "spread_instructions": max(self.instructions) - min(self.instructions)}

    def summary_lines(self) -> list[str]:
        b = self.build
        per_mac = f"{self.instructions_per_mac:.2f}" if self.instructions_per_mac else "n/a"
        return [f"{b.board.env} ({b.runtime}), model {b.facts.sha256[:16]} input {'x'.join(map(str, b.facts.input_shape))}",
                f"instructions per inference: {self.median_instructions:,} (median of {len(self.instructions)}, "
                f"spread {max(self.instructions) - min(self.instructions)})"
                + (f", {self.ms_per_inference:.2f} ms at {self.cpu_hz / 1e6:g} MHz (1 instruction/cycle)"
                   if self.cpu_hz else ""),
                f"MACs: {b.macs:,}  instructions per MAC: {per_mac}",
                f"arena: {b.arena_bytes:,} B  RAM (data+bss): {b.ram_bytes:,} B  flash: {b.flash_bytes:,} B"]


def bench(board_env: str, model, runtime: str | None = None, runs: int = 3, out_dir=None, log=print,
          timeout: float = 300.0) -> BenchResult:
    board = get_board(board_env)
    if not board.emulated:
        raise UserError(f"bench counts instructions under QEMU: choose an emulated board "
                        f"({', '.join(b.env for b in BOARDS.values() if b.emulated)}), not {board.env}")
    if runs < 1:
        raise UserError("--runs must be at least 1")
    build = build_firmware(board.env, model, runtime=runtime, out_dir=out_dir, log=log)
    rng = np.random.default_rng(0)
    instructions = []
    with Emulator(board, build.firmware, time_limit=timeout + 60) as qemu, DeviceLink(qemu.url, timeout=timeout) as link:
        link.sync()
        hello = link.hello()
        for _ in range(runs):
            image = rng.integers(0, 256, hello.input_shape, dtype=np.uint8)
            instructions.append(link.infer(image).latency_ticks * hello.instructions_per_tick)
    return BenchResult(build, instructions, hello.cpu_hz)
