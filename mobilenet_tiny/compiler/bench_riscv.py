"""Run the compiled runtime on RV32IMAC under QEMU (virt, -icount shift=0): outputs and exact instruction
counts (minstret) per input, for the RISC-V kernel path's bit-exactness tests and benchmarks.

Builds the generated C + mtk_kernels + a bare-metal driver (baremetal/riscv_main.c) with the system
riscv64-unknown-elf-gcc and picolibc, with the start-up and linker script of the qemu_rv32 firmware
(firmware/src/boards/qemu_riscv, firmware/platforms/qemu/ldscripts), so the board's budget applies.

    python -m mobilenet_tiny.compiler.bench_riscv MODEL.tflite [--inputs N] [--profile] [--portable]
"""
from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from . import KERNELS_DIR, compile_model

BAREMETAL_DIR = Path(__file__).resolve().parent / "baremetal"
FIRMWARE_DIR = KERNELS_DIR.parents[1]
RV32_FLAGS = ("-march=rv32imac", "-mabi=ilp32", "-misa-spec=2.2", "--specs=picolibc.specs")


@dataclass
class RiscvRun:
    outputs: np.ndarray  # (N, output bytes) int8
    instructions: list[int]  # per inference, exact
    flash_bytes: int
    ram_bytes: int  # .data + .bss
    steps: dict[int, int] | None = None  # step index -> instructions, first inference (profile builds)

    @property
    def instructions_per_inference(self) -> int:
        return int(np.median(self.instructions))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise UserError(f"{name} not found: install gcc-riscv64-unknown-elf, picolibc-riscv64-unknown-elf and "
                        "qemu-system-misc")
    return path


def write_inputs(path: Path, inputs: np.ndarray) -> None:
    rows = ["    {" + ",".join(str(int(v)) for v in x.reshape(-1)) + "}" for x in inputs]
    path.write_text('#include "model.h"\nconst int8_t bench_inputs[][MODEL_INPUT_BYTES] = {\n' + ",\n".join(rows)
                    + f"\n}};\nconst int bench_input_count = {len(inputs)};\n")


def _compile_flags(opt: str, portable: bool) -> list[str]:
    return [*RV32_FLAGS, opt, "-std=c99", "-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections",
            "-DMTK_UART_RX_IRQ=10", "-I", str(KERNELS_DIR / "include"), *(["-DMTK_PORTABLE"] if portable else [])]


_archives: dict[tuple, Path] = {}


def kernels_archive(opt: str = "-O2", portable: bool = False) -> Path:
    """mtk_kernels compiled once per process for these flags (and these sources), as a static library:
    every model of a sweep links the same objects."""
    sources = sorted((KERNELS_DIR / "src").glob("*.[chS]")) + sorted((KERNELS_DIR / "include").glob("*.h"))
    key = (opt, portable, hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest())
    if key in _archives and _archives[key].is_file():
        return _archives[key]
    work = Path(tempfile.mkdtemp(prefix="mtk-rv32-kernels-"))
    objects = []
    for source in sorted((KERNELS_DIR / "src").glob("*.[cS]")):
        obj = work / f"{source.stem}.o"
        _run([_tool("riscv64-unknown-elf-gcc"), *_compile_flags(opt, portable), "-c", str(source), "-o", str(obj)])
        objects.append(str(obj))
    archive = work / "libmtk_kernels.a"
    _run([_tool("riscv64-unknown-elf-ar"), "rcs", str(archive), *objects])
    _archives[key] = archive
    return archive


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed:\n{proc.stderr[-3000:]}")


def build_elf(model_dir: Path, out: Path, *, portable: bool = False, opt: str = "-O2", trace: bool = False) -> Path:
    board_dir = FIRMWARE_DIR / "src" / "boards" / "qemu_riscv"
    sources = [model_dir / "model.c", model_dir / "bench_inputs.c", BAREMETAL_DIR / "riscv_main.c",
               board_dir / "startup.c"]
    ldscripts = FIRMWARE_DIR / "platforms" / "qemu" / "ldscripts"
    _run([_tool("riscv64-unknown-elf-gcc"), *_compile_flags(opt, portable), "-I", str(model_dir),
          *(["-DMTK_TRACE"] if trace else []), "-nostartfiles", "-Wl,--gc-sections", f"-L{ldscripts}",
          "-T", str(ldscripts / "qemu_rv32.ld"), *map(str, sources), str(kernels_archive(opt, portable)),
          "-o", str(out)])
    return out


def run_elf(elf: Path, timeout: float = 600) -> str:
    cmd = [_tool("qemu-system-riscv32"), "-M", "virt", "-bios", "none", "-nographic", "-monitor", "none",
           "-icount", "shift=0,align=off,sleep=on", "-kernel", str(elf)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"QEMU did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"QEMU run failed with {proc.returncode}: {proc.stdout[-500:]} {proc.stderr[-500:]}")
    return proc.stdout


def _sizes(elf: Path) -> tuple[int, int]:
    text = subprocess.run([_tool("riscv64-unknown-elf-size"), "-A", str(elf)], capture_output=True, text=True,
                          check=True).stdout
    sizes = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\.\S+)\s+(\d+)", text, re.M)}
    return sizes.get(".text", 0) + sizes.get(".data", 0), sizes.get(".data", 0) + sizes.get(".bss", 0)


def run_riscv(tflite_bytes: bytes, inputs: np.ndarray, workdir=None, *, portable: bool = False, opt: str = "-O2",
              trace: bool = False, memory: str = "balanced") -> RiscvRun:
    """Compile the model, build it for RV32IMAC and run every input (int8, model input shape) under QEMU."""
    tmp = None if workdir else tempfile.TemporaryDirectory(prefix="mtk-rv32-")
    work = Path(workdir or tmp.name)
    try:
        result = compile_model(tflite_bytes, work, "model", memory=memory)
        inputs = np.asarray(inputs, np.int8).reshape(len(inputs), int(np.prod(result.input_shape)))
        write_inputs(work / "bench_inputs.c", inputs)
        elf = build_elf(work, work / "bench_rv32.elf", portable=portable, opt=opt, trace=trace)
        text = run_elf(elf)
        found = re.findall(r"^o ([0-9a-f]*) t ([0-9a-f]{8})$", text, re.M)
        if len(found) != len(inputs):
            raise RuntimeError(f"RV32 build printed {len(found)} results for {len(inputs)} inputs: {text[-300:]}")
        outputs = np.array([np.frombuffer(bytes.fromhex(o), np.int8) for o, _ in found])
        steps = None
        if trace:  # the step lines that follow the first result line
            first = re.split(r"^o ", text, flags=re.M)[1]
            steps = {int(i, 16): int(v, 16) for i, v in re.findall(r"^s ([0-9a-f]{4}) ([0-9a-f]{8})$", first, re.M)}
        flash, ram = _sizes(elf)
        return RiscvRun(outputs, [int(t, 16) for _, t in found], flash, ram, steps)
    finally:
        if tmp is not None:
            tmp.cleanup()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="int8 .tflite")
    parser.add_argument("--inputs", type=int, default=3, help="random inputs to run (default 3)")
    parser.add_argument("--profile", action="store_true", help="instructions per step")
    parser.add_argument("--portable", action="store_true", help="-DMTK_PORTABLE (the plain C path)")
    parser.add_argument("--memory", default="balanced", choices=("min", "balanced", "fast"),
                        help="the compiler's memory mode (default balanced)")
    args = parser.parse_args(argv)
    tflite_bytes = Path(args.model).read_bytes()
    from ..interpreters import TflmInterpreter

    shape = TflmInterpreter(tflite_bytes).input_details.shape[1:]
    inputs = np.random.default_rng(0).integers(-128, 128, size=(args.inputs, *shape), dtype=np.int8)
    run = run_riscv(tflite_bytes, inputs, portable=args.portable, trace=args.profile, memory=args.memory)
    ref = TflmInterpreter(tflite_bytes).run_batch(inputs).reshape(len(inputs), -1)
    macs = 0
    if args.profile:
        from .lowering import lower_graph
        from .reader import read_model

        steps = lower_graph(read_model(tflite_bytes))
        for index, count in run.steps.items():
            step = steps[index]
            per = f"{count / step.macs:6.2f}/MAC" if step.macs else ""
            print(f"{step.layer + ' ' + step.op.name:<48} {count:>11,} {per}")
    with tempfile.TemporaryDirectory() as d:
        macs = compile_model(tflite_bytes, d, "model", memory=args.memory).macs
    print(f"RV32IMAC ({'portable' if args.portable else 'RISC-V path'}): {run.instructions_per_inference:,} "
          f"instructions/inference, {run.instructions_per_inference / macs:.2f}/MAC ({macs:,} MACs), "
          f"flash {run.flash_bytes:,} B, static RAM {run.ram_bytes:,} B")
    same = np.array_equal(run.outputs, ref)
    print("outputs equal host TFLM" if same else "OUTPUTS DIFFER from host TFLM")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
