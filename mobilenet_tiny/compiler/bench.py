"""Benchmark the compiled runtime on an emulated Cortex-M4 (QEMU mps2-an386, -icount shift=0).

Builds the generated C + mtk_kernels + a bare-metal driver (compiler/baremetal/) with arm-none-eabi-gcc,
once with the Arm DSP path and once with -DMTK_PORTABLE, runs both under QEMU and reports instructions per
inference and per MAC, the outputs of both builds (they must be identical, and equal to TFLM's), arena,
static RAM and flash (arm-none-eabi-size, benchmark inputs excluded) and the stack's high-water mark (the
driver paints free RAM before the first inference).

    python -m mobilenet_tiny.compiler.bench MODEL.tflite [--inputs N]
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from . import KERNELS_DIR, compile_model

BAREMETAL_DIR = Path(__file__).resolve().parent / "baremetal"
M4_FLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16")
INSTRUCTIONS_PER_TICK = 40  # TIMER0 at 25 MHz, one instruction per ns under -icount shift=0


@dataclass
class BuildRun:
    path: str  # "dsp" or "portable"
    outputs: np.ndarray  # (N, output bytes) int8
    instructions: list[int]  # per inference
    flash_bytes: int
    static_ram_bytes: int
    stack_bytes: int  # high-water mark of one inference, the benchmark driver's main() included
    sections: dict = field(default_factory=dict)

    @property
    def instructions_per_inference(self) -> int:
        return int(np.median(self.instructions))


@dataclass
class BenchResult:
    macs: int
    arena_bytes: int
    lower_bound_bytes: int
    weight_bytes: int
    runs: dict[str, BuildRun]
    tflm_arena_bytes: int | None = None

    def per_mac(self, path: str) -> float:
        return self.runs[path].instructions_per_inference / self.macs

    def summary(self) -> str:
        lines = [f"MACs {self.macs:,}; arena {self.arena_bytes:,} B (lower bound {self.lower_bound_bytes:,} B"
                 + (f", TFLM arena {self.tflm_arena_bytes:,} B" if self.tflm_arena_bytes else "") + ")"]
        for name, run in self.runs.items():
            lines.append(f"{name:>8}: {run.instructions_per_inference:,} instructions/inference, "
                         f"{self.per_mac(name):.2f} instructions/MAC, flash {run.flash_bytes:,} B "
                         f"(constants {self.weight_bytes:,} B), RAM {run.static_ram_bytes + run.stack_bytes:,} B "
                         f"(static {run.static_ram_bytes:,} + stack {run.stack_bytes:,})")
        return "\n".join(lines)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise UserError(f"{name} not found: install gcc-arm-none-eabi and qemu-system-arm")
    return path


def _write_inputs(path: Path, inputs: np.ndarray, input_bytes: int) -> None:
    rows = []
    for x in inputs.reshape(len(inputs), input_bytes):
        rows.append("    {" + ",".join(str(int(v)) for v in x) + "}")
    path.write_text(
        '#include "model.h"\n'
        "/* Benchmark inputs: kept in their own section so the flash figure can leave them out. */\n"
        '__attribute__((section(".bench_inputs"))) const int8_t bench_inputs[][MODEL_INPUT_BYTES] = {\n'
        + ",\n".join(rows) + "\n};\n"
        f"const int bench_input_count = {len(inputs)};\n")


def build_elf(model_dir: Path, out: Path, portable: bool, cpu_flags=M4_FLAGS, opt: str = "-O2",
              extra_flags=()) -> Path:
    cc = _tool("arm-none-eabi-gcc")
    sources = [model_dir / "model.c", model_dir / "bench_inputs.c", BAREMETAL_DIR / "startup.c",
               BAREMETAL_DIR / "bench_main.c",
               *sorted(p for p in (KERNELS_DIR / "src").iterdir() if p.suffix in (".c", ".S"))]
    cmd = [cc, *cpu_flags, opt, "-std=c99", "-Wall", "-Wextra", "-Werror", "-ffunction-sections",
           "-fdata-sections", "-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections",
           "-T", str(BAREMETAL_DIR / "mps2_an386.ld"), "-I", str(KERNELS_DIR / "include"), "-I", str(model_dir),
           *(["-DMTK_PORTABLE"] if portable else []), *extra_flags, *map(str, sources), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"arm-none-eabi-gcc failed:\n{proc.stderr[-3000:]}")
    return out


def section_sizes(elf: Path) -> dict[str, int]:
    text = subprocess.run([_tool("arm-none-eabi-size"), "-A", str(elf)], capture_output=True, text=True,
                          check=True).stdout
    sizes = {}
    for line in text.splitlines():
        m = re.match(r"^(\.\S+)\s+(\d+)\s+(\d+)", line)
        if m:
            sizes[m.group(1)] = int(m.group(2))
    return sizes


def profile_layers(tflite_bytes: bytes, workdir, portable: bool = False, memory: str = "balanced"
                   ) -> list[tuple[str, int, int]]:
    """(layer, instructions, MACs) per step of one inference on the emulated Cortex-M4."""
    from .lowering import lower_graph
    from .reader import read_model

    work = Path(workdir)
    result = compile_model(tflite_bytes, work, "model", memory=memory)
    input_bytes = int(np.prod(result.input_shape))
    _write_inputs(work / "bench_inputs.c", np.zeros((1, input_bytes), np.int8), input_bytes)
    elf = build_elf(work, work / "profile.elf", portable, extra_flags=["-DMTK_TRACE"])
    text = _run_qemu_text(elf)
    steps = lower_graph(read_model(tflite_bytes))
    rows = []
    for line in text.splitlines():
        m = re.match(r"^s ([0-9a-f]{4}) ([0-9a-f]{8})$", line.strip())
        if m:
            i = int(m.group(1), 16)
            rows.append((f"{steps[i].layer} {steps[i].op.name}", int(m.group(2), 16) * INSTRUCTIONS_PER_TICK,
                         steps[i].macs))
    return rows


def _run_qemu_text(elf: Path, timeout: float = 600) -> str:
    qemu = _tool("qemu-system-arm")
    cmd = [qemu, "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "null",
           "-semihosting-config", "enable=on,target=native", "-icount", "shift=0,align=off,sleep=off",
           "-kernel", str(elf)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"QEMU did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"QEMU run failed with {proc.returncode}: {proc.stdout[-500:]} {proc.stderr[-500:]}")
    return proc.stdout + proc.stderr  # semihosting writes to stderr


def run_qemu(elf: Path, timeout: float = 600) -> tuple[list[tuple[bytes, int]], int]:
    """((output bytes, instructions) per input, stack high-water mark of the first inference in bytes)."""
    results, stack = [], 0
    for line in _run_qemu_text(elf, timeout).splitlines():
        m = re.match(r"^o ([0-9a-f]*) t ([0-9a-f]{8})$", line.strip())
        if m:
            results.append((bytes.fromhex(m.group(1)), int(m.group(2), 16) * INSTRUCTIONS_PER_TICK))
        m = re.match(r"^k ([0-9a-f]{8})$", line.strip())
        if m:
            stack = int(m.group(1), 16)
    return results, stack


def benchmark(tflite_bytes: bytes, inputs: np.ndarray | None = None, n_inputs: int = 3, workdir=None,
              paths=("portable", "dsp"), with_tflm_arena: bool = True, opt: str = "-O2",
              memory: str = "balanced") -> BenchResult:
    """Compile, build for Cortex-M4 (each path, at optimisation `opt`), run under QEMU; outputs of every path
    are returned."""
    tmp = None if workdir else tempfile.TemporaryDirectory(prefix="mtk-bench-")
    work = Path(workdir or tmp.name)
    try:
        result = compile_model(tflite_bytes, work, "model", memory=memory)
        input_bytes = int(np.prod(result.input_shape))
        if inputs is None:
            rng = np.random.default_rng(0)
            inputs = rng.integers(-128, 128, size=(n_inputs, input_bytes), dtype=np.int8)
        inputs = np.asarray(inputs, np.int8).reshape(len(inputs), input_bytes)
        _write_inputs(work / "bench_inputs.c", inputs, input_bytes)
        runs = {}
        for path in paths:
            elf = build_elf(work, work / f"bench_{path}.elf", portable=(path == "portable"), opt=opt)
            sizes = section_sizes(elf)
            flash = sum(v for k, v in sizes.items() if k in (".text", ".ARM.exidx", ".data"))
            ram = sizes.get(".data", 0) + sizes.get(".bss", 0)
            measured, stack = run_qemu(elf)
            if len(measured) != len(inputs):
                raise RuntimeError(f"{path} build printed {len(measured)} results for {len(inputs)} inputs")
            outputs = np.array([np.frombuffer(o, np.int8) for o, _ in measured])
            runs[path] = BuildRun(path, outputs, [n for _, n in measured], flash, ram, stack, sizes)
        tflm_arena = None
        if with_tflm_arena:
            from ..interpreters import TflmInterpreter

            tflm = TflmInterpreter(tflite_bytes)
            tflm.run(inputs[0].reshape(tflm.input_details.shape))
            tflm_arena = tflm.arena_used_bytes()
        return BenchResult(result.macs, result.arena_bytes, result.lower_bound_bytes, result.weight_bytes, runs,
                           tflm_arena)
    finally:
        if tmp is not None:
            tmp.cleanup()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="int8 .tflite")
    parser.add_argument("--inputs", type=int, default=3, help="random inputs to run (default 3)")
    parser.add_argument("--profile", action="store_true", help="per-layer instruction counts (DSP path)")
    parser.add_argument("--memory", default="balanced", choices=("min", "balanced", "fast"),
                        help="the compiler's memory mode (default balanced)")
    args = parser.parse_args(argv)
    tflite_bytes = Path(args.model).read_bytes()
    if args.profile:
        with tempfile.TemporaryDirectory(prefix="mtk-profile-") as work:
            for name, instructions, macs in profile_layers(tflite_bytes, work, memory=args.memory):
                per = f"{instructions / macs:6.2f}/MAC" if macs else ""
                print(f"{name:<48} {instructions:>11,} {per}")
    result = benchmark(tflite_bytes, n_inputs=args.inputs, memory=args.memory)
    print(result.summary())
    same = all(np.array_equal(r.outputs, next(iter(result.runs.values())).outputs) for r in result.runs.values())
    print("DSP and portable outputs identical" if same else "OUTPUTS DIFFER between paths")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
