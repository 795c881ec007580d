"""`mobilenet-tiny bench`: instructions per inference on an emulated board, for any runtime, in one run.

One harness for every runtime and every QEMU board. A benchmark image is the firmware's own runtime
(firmware/src/runtime_compiled.c or runtime_tflm.cpp, the model files `firmware build` writes) and board
code (firmware/src/boards/qemu/) with firmware/src/bench_main.c in place of main.cpp and the serial
protocol: the inputs are linked into flash, each invoke is timed with the firmware's own latency counter,
and the results leave over the UART, which QEMU writes to a file. It is built directly with
arm-none-eabi-gcc (about a second; TFLM links its library compiled once per core, see tflm_library.py),
not through PlatformIO, so per-op sweeps can run dozens of images in a test.

Under QEMU's -icount shift=0 one instruction takes one virtual nanosecond; the Arm boards' SysTick counts
25 MHz (a latency of T ticks is 40·T instructions, to one tick), the RISC-V board reads minstret (exact).
Counts are identical from run to run. QEMU counts instructions, not cycles: the ms figure, at the clock of
the part the board stands for and one instruction per cycle, is an estimate. With `cycles`, each image runs
once more under QEMU with the stream plugin (mobilenet_tiny/cycles) and every inference's executed stream is
priced as the board's cycle model says (Board.cycle_model: Cortex-M4 timings on the M4 and M7, beats on
the M55): estimated cycles, per MAC and ms at the clock, beside the instructions, never in their place.
Figures: instructions (median over the inputs), per MAC, the arena the runtime reports, RAM all included
(.data + .bss + the stack's high-water mark of an inference, measured by painting free RAM), flash (the
image without its benchmark inputs: runtime, model and start-up code; the serial protocol is not in it).

Runtimes: compiled (this project's compiled C, DSP path where the core has it, Helium on the M55),
compiled-dsp (-DMTK_NO_MVE: the DSP path also on the M55), compiled-portable (-DMTK_PORTABLE),
tflm-reference (alias tflm) and tflm-cmsis-nn (TFLM from its tree, see tflm_tree.py).
"""
from __future__ import annotations

import atexit
import concurrent.futures
import contextlib
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError, one_line
from ..model_facts import ModelFacts, read_model_facts
from .board import BOARDS, Board, get_board
from .emulator import qemu_command
from .firmware_build import elf_sizes, model_macs
from .model_meta import write_model_meta
from .platformio_env import FIRMWARE_DIR
from .tflm_library import build_library, check_kernels, cpu_flags, find_tree, first_error_line

SRC_DIR = FIRMWARE_DIR / "src"
KERNELS_DIR = FIRMWARE_DIR / "lib" / "mtk_kernels"
PLATFORM_DIR = FIRMWARE_DIR / "platforms" / "qemu"
LDSCRIPTS_DIR = PLATFORM_DIR / "ldscripts"
C_WARNINGS = ("-Wall", "-Wextra", "-Werror")
# As the QEMU dev-platform's builder compiles the firmware (platforms/qemu/builder/main.py).
CXX_FLAGS = ("-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics", "-fno-use-cxa-atexit")


@dataclass(frozen=True)
class Runtime:
    name: str            # as --runtime and the table say it
    runtime: str         # the firmware's runtime: compiled or tflm
    kernels: str | None = None  # TFLM's kernel set
    portable: bool = False      # compiled runtime without its Arm DSP path
    no_helium: bool = False     # compiled runtime with its DSP path but not its Helium (MVE) one


RUNTIMES = {r.name: r for r in (
    Runtime("compiled", "compiled"), Runtime("compiled-portable", "compiled", portable=True),
    Runtime("compiled-dsp", "compiled", no_helium=True),
    Runtime("tflm-reference", "tflm", "reference"), Runtime("tflm-cmsis-nn", "tflm", "cmsis-nn"))}
ALIASES = {"tflm": "tflm-reference", "portable": "compiled-portable", "dsp": "compiled"}


def get_runtime(name: str) -> Runtime:
    name = ALIASES.get(name.strip(), name.strip())
    if name not in RUNTIMES:
        raise UserError(f"unknown runtime {name!r}: choose from {', '.join([*RUNTIMES, *ALIASES])}")
    return RUNTIMES[name]


def emulated_board(env: str) -> Board:
    board = get_board(env)
    if not board.emulated:
        raise UserError(f"bench counts instructions under QEMU: choose an emulated board "
                        f"({', '.join(b.env for b in BOARDS.values() if b.emulated)}), not {board.env}")
    return board


@dataclass(frozen=True)
class ImageToolchain:
    """How one family of emulated boards builds an image: what the dev-platform's builder does for its
    firmware (platforms/qemu/builder/main.py), so the benchmark runs the firmware's code as compiled there."""
    prefix: str                  # arm-none-eabi- or riscv64-unknown-elf-
    cpu_flags: tuple[str, ...]
    defines: tuple[str, ...]
    board_sources: tuple[Path, ...]
    link_flags: tuple[str, ...]  # start-up libraries, linker script
    cxx_driver: bool             # TFLM links with g++ (libstdc++); with gcc where there is no C++ library

    def tool(self, name: str) -> str:
        return self.prefix + name


def image_toolchain(board: Board) -> ImageToolchain:
    spec = json.loads((PLATFORM_DIR / "boards" / f"{board.env}.json").read_text())["build"]
    defines = ("MTK_BOARD_QEMU", f"MTK_UART_BASE={spec['uart_base']}", f"MTK_UART_RX_IRQ={spec['uart_rx_irq']}",
               f"MTK_CPU_HZ={spec['clock_hz']}", f'MTK_BOARD_NAME="{board.env}"', f"F_CPU={spec['f_cpu']}")
    sources = tuple(sorted((SRC_DIR / "boards" / board.source_dir).glob("*.c")))
    script = ("-Wl,--gc-sections", f"-L{LDSCRIPTS_DIR}", "-T", str(LDSCRIPTS_DIR / spec["ldscript"]))
    cpu = tuple(cpu_flags(board))
    if board.arch == "riscv32":
        return ImageToolchain(board.toolchain_prefix, cpu, defines, sources, ("-nostartfiles", *script), False)
    return ImageToolchain(board.toolchain_prefix, cpu, defines, sources,
                          ("--specs=nano.specs", "--specs=nosys.specs", *script), True)


@dataclass
class BenchImage:
    board: Board
    runtime: Runtime
    elf: Path
    macs: int
    n_inputs: int
    cpu_hz: int             # the clock of the part the board stands for (the ms estimate)
    flash_bytes: int        # without the benchmark inputs
    static_ram_bytes: int   # .data + .bss
    step_names: list[str]   # per step of the model (profile rows)
    step_macs: list[int]
    traced: bool = False    # built with the per-layer hook (-DMTK_TRACE)


@dataclass
class BenchRun:
    """One runtime on one board: every input's output and instructions, and the memory figures."""
    image: BenchImage
    outputs: np.ndarray            # (inputs, output bytes) int8
    instructions: list[int]        # per input
    arena_bytes: int               # as the runtime reports it (TFLM: used bytes)
    stack_bytes: int               # high-water mark of the first inference
    profile: list[tuple[str, int, int]] = field(default_factory=list)  # (layer, instructions, MACs)
    estimates: list = field(default_factory=list)       # per input, a cycles.Estimate (with cycles=True)
    profile_cycles: list[int] = field(default_factory=list)  # per profile row, estimated (with cycles=True)
    clock_hz: int = 0                                    # the ms figures' clock; 0: the board's

    @property
    def clock(self) -> int:
        return self.clock_hz or self.image.cpu_hz

    @property
    def cycles_per_inference(self) -> int | None:
        """Estimated cycles (the board's cycle model), median over the inputs."""
        if not self.estimates:
            return None
        field_name = _cycle_field(self.image.board)
        return int(np.median([getattr(e, field_name) for e in self.estimates]))

    @property
    def cycles_per_mac(self) -> float | None:
        cycles = self.cycles_per_inference
        return cycles / self.image.macs if cycles is not None and self.image.macs else None

    @property
    def cycles_ms_per_inference(self) -> float | None:
        cycles = self.cycles_per_inference
        return cycles / self.clock * 1e3 if cycles is not None and self.clock else None

    @property
    def runtime(self) -> str:
        return self.image.runtime.name

    @property
    def instructions_per_inference(self) -> int:
        return int(np.median(self.instructions))

    @property
    def instructions_per_mac(self) -> float | None:
        return self.instructions_per_inference / self.image.macs if self.image.macs else None

    @property
    def ms_per_inference(self) -> float | None:
        """At the clock of the part the board stands for, one instruction per cycle (an estimate)."""
        return self.instructions_per_inference / self.clock * 1e3 if self.clock else None

    @property
    def ram_bytes(self) -> int:
        """RAM all included: static data (arena, buffers) and the stack an inference needs."""
        return self.image.static_ram_bytes + self.stack_bytes

    @property
    def flash_bytes(self) -> int:
        return self.image.flash_bytes

    def as_dict(self) -> dict:
        return {"runtime": self.runtime, "instructions_per_inference": self.instructions_per_inference,
                "instructions_per_mac": self.instructions_per_mac, "ms_per_inference": self.ms_per_inference,
                "arena_bytes": self.arena_bytes,
                "ram_bytes": self.ram_bytes, "static_ram_bytes": self.image.static_ram_bytes,
                "stack_bytes": self.stack_bytes, "flash_bytes": self.flash_bytes,
                "spread_instructions": max(self.instructions) - min(self.instructions),
                **({"estimated_cycles_per_inference": self.cycles_per_inference,
                    "estimated_cycles_per_mac": self.cycles_per_mac,
                    "estimated_ms_per_inference": self.cycles_ms_per_inference,
                    "stream_instructions_per_inference": int(np.median([e.instructions for e in self.estimates])),
                    "vector_instructions_per_inference": int(np.median([e.vector_instructions
                                                                        for e in self.estimates]))}
                   if self.estimates else {}),
                **({"profile": [{"layer": n, "instructions": i, "macs": m,
                                 **({"estimated_cycles": c} if c is not None else {})}
                                for (n, i, m), c in zip(self.profile, self.profile_cycles or [None] * len(self.profile))]}
                   if self.profile else {})}


def _bench_facts(tflite_bytes: bytes) -> ModelFacts:
    """The model record; unlike the firmware, a benchmark also takes vector models (1×1×N inputs)."""
    facts = read_model_facts(tflite_bytes)
    if not facts.is_full_int8:
        raise UserError("bench needs a full-int8 model (int8 input and output)")
    return facts


def _write_inputs(path: Path, inputs: np.ndarray):
    rows = ",\n".join("    {" + ",".join(str(int(v)) for v in x) + "}" for x in inputs)
    path.write_text('#include "model/model_meta.h"\n'
                    "/* Benchmark inputs (in flash; the flash figure leaves them out). */\n"
                    f"const int8_t bench_inputs[{len(inputs)}][META_INPUT_BYTES] = {{\n{rows}\n}};\n"
                    f"const int bench_input_count = {len(inputs)};\n")


def _step_names(tflite_bytes: bytes) -> tuple[list[str], list[int]]:
    """Layer name and MACs per step (= operator) of the model, as the compiler names them."""
    from ..compiler.lowering import lower_graph
    from ..compiler.reader import read_model

    try:
        steps = lower_graph(read_model(tflite_bytes))
    except UserError:
        return [], []
    return [f"{s.layer} {s.op.name}" for s in steps], [s.macs for s in steps]


def build_image(tflite_bytes: bytes, board: Board, runtime: Runtime, inputs: np.ndarray, workdir,
                opt: str = "-O2", trace: bool = False, log=print, arena_bytes: int | None = None,
                init_only: bool = False, memory: str = "balanced") -> BenchImage:
    """Write the model's files for `runtime`, compile the benchmark image and return it with its sizes.
    TFLM's arena is `arena_bytes`, by default what the interpreter needs on this board (measure_tflm_arena)
    plus the converter's margin; `init_only` images stop after reporting the arena. `memory` is the
    compiler's memory mode (min, balanced, fast) for the compiled runtime."""
    work = Path(workdir)
    model_dir = work / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    facts = _bench_facts(tflite_bytes)
    labels = facts.class_names([f"class_{i}" for i in range(facts.output_size)])
    inputs = np.asarray(inputs, np.int8).reshape(len(inputs), facts.input_bytes)
    tc = image_toolchain(board)
    if runtime.runtime == "compiled":
        from ..compiler import compile_model

        macs = compile_model(facts, model_dir, name="model", labels=labels, memory=memory).macs
    else:
        from ..convert.c_array import write_c_array

        if arena_bytes is None:
            arena_bytes = tflm_arena_with_margin(measure_tflm_arena(tflite_bytes, board, runtime.kernels,
                                                                    work / "arena", log=log))
        write_c_array(facts, model_dir, name="model", labels=labels, arena_bytes=arena_bytes)
        macs = model_macs(tflite_bytes)
    write_model_meta(model_dir, facts, labels)
    _write_inputs(work / "bench_inputs.c", inputs)

    cpu = list(tc.cpu_flags)
    defines = [*tc.defines] + (["MTK_PORTABLE"] if runtime.portable else []) + \
              (["MTK_NO_MVE"] if runtime.no_helium else []) + \
              (["MTK_TRACE"] if trace else []) + (["MTK_BENCH_INIT_ONLY"] if init_only else [])
    includes = [work, SRC_DIR, KERNELS_DIR / "include"]
    sources = [SRC_DIR / "bench_main.c", work / "bench_inputs.c", model_dir / "model_meta.c"]
    shared = list(tc.board_sources)  # the same objects for every model: compiled once per process
    extra_flags, link_libs, cxx_headers = [], [], ()
    if runtime.runtime == "compiled":
        sources += [SRC_DIR / "runtime_compiled.c", model_dir / "model.c"]
        shared += sorted(p for p in (KERNELS_DIR / "src").iterdir() if p.suffix in (".c", ".S"))
    else:
        library = build_library(board, find_tree(runtime.kernels), log=log)
        extra_flags = [f for f in library.consumer_flags() if f.startswith(("-I", "-D"))]
        link_libs = [f for f in library.consumer_flags() if f.startswith(("-L", "-l"))]
        cxx_headers = library.cxx_headers  # for the C++ files (a board whose toolchain has no C++ library)
        sources += [SRC_DIR / "runtime_tflm.cpp", model_dir / "model_data.cc"]

    def command(source: Path, obj: Path, include_dirs=includes) -> list[str]:
        cxx = source.suffix in (".cc", ".cpp")
        warnings = CXX_FLAGS if cxx else C_WARNINGS if source.suffix == ".c" else ()
        return [tc.tool("g++" if cxx else "gcc"), *cpu, opt, "-ffunction-sections",
                "-fdata-sections", *warnings, *(cxx_headers if cxx else ()), *[f"-D{d}" for d in defines],
                *extra_flags, *[f"-I{d}" for d in include_dirs], "-c", str(source), "-o", str(obj)]

    objects = [work / "obj" / f"{i:02d}-{s.stem}.o" for i, s in enumerate(sources)]
    objects[0].parent.mkdir(exist_ok=True)
    jobs = [(command(src, obj), src) for src, obj in zip(sources, objects)]
    shared_includes = [SRC_DIR, KERNELS_DIR / "include"]  # not the model's folder: the same for every model
    digest = _source_digest()
    for src in shared:
        key = hashlib.sha256((" ".join(command(src, Path("o"), shared_includes)) + digest).encode()).hexdigest()
        obj = _SHARED_OBJECTS.get(key)
        if obj is None or not obj.is_file():  # (a failed compile leaves no object: compiled again next time)
            obj = _shared_objects_dir() / f"{key[:20]}-{src.stem}.o"
            jobs.append((command(src, obj, shared_includes), src))
            _SHARED_OBJECTS[key] = obj
        objects.append(obj)
    with concurrent.futures.ThreadPoolExecutor() as pool:
        results = list(pool.map(lambda job: subprocess.run(job[0], capture_output=True, text=True), jobs))
    for (cmd, source), done in zip(jobs, results):
        if done.returncode != 0:
            raise RuntimeError(f"compiling {source.name} for the benchmark failed: "
                               f"{first_error_line(done.stderr) or one_line(done.stderr)[:300]}\n{done.stderr[-3000:]}")
    elf = work / "bench.elf"
    driver = "g++" if runtime.runtime == "tflm" and tc.cxx_driver else "gcc"
    link = [tc.tool(driver), *cpu, opt, *tc.link_flags, *map(str, objects),
            *link_libs, "-lc", "-lm", "-lgcc", "-o", str(elf)]
    done = subprocess.run(link, capture_output=True, text=True)
    if done.returncode != 0:
        overflow = _OVERFLOW.search(done.stderr)
        if overflow:
            raise ImageTooBig(f"model does not fit {board.env} with {runtime.name}: {overflow.group(1)} overflowed "
                              f"by {int(overflow.group(2)):,} bytes (benchmark inputs included)", int(overflow.group(2)),
                              overflow.group(1).upper())
        if "RAM budget exceeded" in done.stderr:
            raise ImageTooBig(f"model does not fit {board.env} with {runtime.name}: no RAM left for the stack", 1024)
        raise RuntimeError(f"linking the benchmark failed: {first_error_line(done.stderr)}\n{done.stderr[-3000:]}")
    flash, ram = elf_sizes(elf, board)
    names, step_macs = _step_names(tflite_bytes)
    return BenchImage(board, runtime, elf, macs, len(inputs), board.clock_hz, flash - inputs.size, ram, names,
                      step_macs, trace)


_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")
_SHARED_OBJECTS: dict[str, Path] = {}  # compile command + sources digest -> object, for this process
_shared_dir: list[Path] = []


def _shared_objects_dir() -> Path:
    if not _shared_dir:
        _shared_dir.append(Path(tempfile.mkdtemp(prefix="mtk-bench-objects-")))
        atexit.register(shutil.rmtree, _shared_dir[0], True)
    return _shared_dir[0]


def _source_digest() -> str:
    """The kernels' and the firmware's own sources and headers: a shared object is reused only while
    none of them changed."""
    digest = hashlib.sha256()
    for path in sorted([*KERNELS_DIR.rglob("*"), *SRC_DIR.rglob("*")]):
        if path.is_file() and path.suffix in (".c", ".h", ".S", ".cpp") and "model" not in path.parts:
            digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


class ImageTooBig(UserError):
    def __init__(self, message: str, excess_bytes: int, region: str = "RAM"):
        super().__init__(message)
        self.excess_bytes, self.region = excess_bytes, region


def tflm_arena_with_margin(used: int) -> int:
    """The arena to reserve for `used` bytes: the converter's margin on top, 16-byte aligned."""
    from ..convert.pipeline import ARENA_MARGIN_BYTES

    return -(-(used + ARENA_MARGIN_BYTES) // 16) * 16


def measure_tflm_arena(tflite_bytes: bytes, board: Board, kernels: str, workdir, log=print) -> int:
    """The arena TFLM's interpreter uses on `board` with `kernels` (AllocateTensors in an image whose arena
    is all the RAM the board has left). The host wheel's figure does not do for a device: it has 64-bit
    pointers and reference kernels, while CMSIS-NN's kernels ask for scratch buffers of their own."""
    from ..fileio import atomic_write
    from ..tflm_tree import cache_root

    runtime = RUNTIMES["tflm-reference" if kernels == "reference" else "tflm-cmsis-nn"]
    # Measured once per model and library (the library's folder name says core, kernels, tree and flags).
    library = build_library(board, find_tree(kernels), log=log)
    known = cache_root() / "tflm" / "arena" / (f"{library.archive.parent.name}-"
                                               f"{hashlib.sha256(tflite_bytes).hexdigest()[:16]}.txt")
    if known.is_file():
        return int(known.read_text())
    one = np.zeros((1, _bench_facts(tflite_bytes).input_bytes), np.int8)
    arena = board.ram_bytes - 32 * 1024  # shrunk by what the linker says is too much
    for _ in range(3):
        try:
            image = build_image(tflite_bytes, board, runtime, one, workdir, arena_bytes=arena, init_only=True, log=log)
            break
        except ImageTooBig as e:
            arena -= (e.excess_bytes + 15) // 16 * 16 + 256
            if e.region == "FLASH" or arena <= one.size:
                raise
    else:
        raise UserError(f"model does not fit {board.env}: no room for TFLM's arena")
    try:
        used = run_image(image, expect_outputs=False).arena_bytes
    except UserError as e:
        raise UserError(f"model does not fit {board.env} with TFLM's {kernels} kernels: {e} "
                        f"(with all {arena:,} bytes of RAM left as arena)") from None
    atomic_write(known, str(used))
    return used


def check_cycle_model(board: Board) -> None:
    """`bench --cycles` needs a cycle model for the board's core."""
    if not board.cycle_model:
        have = ", ".join(b.env for b in BOARDS.values() if b.cycle_model)
        raise UserError(f"--cycles: no cycle estimate for {board.env} ({board.arch}); boards with one: {have}")


def estimate_image(image: BenchImage, timeout: float = 600):
    """Every inference of the image as the stream plugin sees it: (one cycles.Estimate per input, the
    segments of the first inference split at the per-layer hook, for a traced image)."""
    from ..cycles import estimate_cycles

    check_cycle_model(image.board)
    windows, done = estimate_cycles(image.elf, qemu_command(image.board, image.elf, serial="null"), "runtime_invoke",
                                    "mtk_trace_step" if image.traced else None, timeout=timeout)
    if done.returncode != 0 or len(windows) != image.n_inputs:
        raise RuntimeError(f"the cycle estimate of {image.elf} saw {len(windows)} inferences of {image.n_inputs} "
                           f"(QEMU ended with {done.returncode}): {done.stderr.strip()[-300:]}")
    return [w.total for w in windows], windows[0].segments


def run_image(image: BenchImage, timeout: float = 600, expect_outputs: bool = True, cycles: bool = False) -> BenchRun:
    """Boot the image in QEMU, read its serial output, and parse the results; with `cycles`, also estimate
    every inference's cycles from a second run under the stream plugin."""
    serial = image.elf.with_name("serial.txt")
    serial.unlink(missing_ok=True)
    cmd = qemu_command(image.board, image.elf, serial=f"file:{serial}")
    try:
        done = subprocess.run(["timeout", "--kill-after=5", f"{timeout:g}", *cmd], capture_output=True, text=True)
    except FileNotFoundError:
        raise UserError("qemu-system-arm not found on PATH (Debian: apt-get install qemu-system-arm)") from None
    text = serial.read_text(errors="replace") if serial.exists() else ""
    error = re.search(r"^e (.*)$", text, re.M)
    if error:
        raise UserError(f"{image.runtime.name} on {image.board.env}: {error.group(1)}")
    if done.returncode != 0:
        raise RuntimeError(f"QEMU run of {image.elf} ended with {done.returncode} "
                           f"({'time limit' if done.returncode == 124 else 'fault or error'}): {text[-300:]}")
    outputs, instructions, arena, stack, steps = [], [], 0, 0, []
    tick = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "i":  # the latency counter's instructions per tick (timing.h)
            tick = int(parts[1], 16)
        if len(parts) == 4 and parts[0] == "o" and parts[2] == "t":
            outputs.append(np.frombuffer(bytes.fromhex(parts[1]), np.int8))
            instructions.append(int(parts[3], 16) * tick)
        elif len(parts) == 2 and parts[0] == "a":
            arena = int(parts[1], 16)
        elif len(parts) == 2 and parts[0] == "k":
            stack = int(parts[1], 16)
        elif len(parts) == 3 and parts[0] == "s":
            steps.append((int(parts[1], 16), int(parts[2], 16) * tick))
    if not expect_outputs:
        return BenchRun(image, np.zeros((0, 0), np.int8), [0], arena, stack, [])
    if len(outputs) != image.n_inputs:
        raise RuntimeError(f"the benchmark printed {len(outputs)} results for {image.n_inputs} inputs: {text[-300:]}")
    profile = [(image.step_names[i] if i < len(image.step_names) else f"step {i}", n,
                image.step_macs[i] if i < len(image.step_macs) else 0) for i, n in steps]
    run = BenchRun(image, np.stack(outputs), instructions, arena, stack, profile)
    if cycles:
        run.estimates, segments = estimate_image(image, timeout)
        # one segment per hook call (the layer that ends there) and the tail after the last one
        if image.traced and len(segments) == len(profile) + 1:
            run.profile_cycles = [getattr(s, _cycle_field(image.board)) for s in segments[:-1]]
    return run


def _cycle_field(board: Board) -> str:
    from ..cycles import CYCLE_MODELS

    return CYCLE_MODELS[board.cycle_model][0]


def bench_model(tflite_bytes: bytes, board_env: str, runtime: str, inputs: np.ndarray | None = None,
                n_inputs: int = 3, workdir=None, opt: str = "-O2", profile: bool = False, log=print,
                memory: str = "balanced") -> BenchRun:
    """Build and run one runtime's benchmark image; `inputs` (int8, N×input) default to seeded random ones."""
    board = emulated_board(board_env)
    rt = get_runtime(runtime)
    if n_inputs < 1 and inputs is None:
        raise UserError("--runs must be at least 1")
    with _work_dir(workdir) as work:
        if inputs is None:
            size = _bench_facts(tflite_bytes).input_bytes
            inputs = np.random.default_rng(0).integers(-128, 128, size=(n_inputs, size), dtype=np.int8)
        run = run_inputs(tflite_bytes, board, rt, inputs, work / rt.name, opt=opt, log=log, memory=memory)
        if profile:
            run.profile = run_image(build_image(tflite_bytes, board, rt, inputs[:1], work / f"{rt.name}-profile",
                                                opt=opt, trace=True, log=log, memory=memory)).profile
        return run


def run_inputs(tflite_bytes: bytes, board: Board, runtime: Runtime, inputs: np.ndarray, workdir,
               cycles: bool = False, **build) -> BenchRun:
    """Every input through benchmark images: one, or as many as it takes for the inputs to fit the board's
    flash beside the model (the figures are the first image's: only the inputs differ)."""
    try:
        return run_image(build_image(tflite_bytes, board, runtime, inputs, workdir, **build), cycles=cycles)
    except ImageTooBig as e:
        if e.region != "FLASH" or len(inputs) < 2:
            raise
    half = len(inputs) // 2
    first = run_inputs(tflite_bytes, board, runtime, inputs[:half], Path(workdir) / "a", cycles, **build)
    rest = run_inputs(tflite_bytes, board, runtime, inputs[half:], Path(workdir) / "b", cycles, **build)
    first.outputs = np.concatenate([first.outputs, rest.outputs])
    first.instructions = first.instructions + rest.instructions
    first.estimates = first.estimates + rest.estimates
    return first


@contextlib.contextmanager
def _work_dir(workdir):
    """Where the images are built: a temporary folder, or `workdir` kept afterwards, whole or not at all
    (built in a hidden sibling that replaces it only when every image was built and run)."""
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="mtk-bench-") as tmp:
            yield Path(tmp)
        return
    from ..fileio import replaced_dir

    with replaced_dir(Path(workdir).resolve()) as staging:
        yield staging


@dataclass
class Comparison:
    """Several runtimes of one model on one board; ratios against the first (the compiled runtime when it
    is among them)."""
    board: Board
    model_sha256: str
    input_shape: tuple
    macs: int
    runs: list[BenchRun]
    clock_hz: int = 0  # the ms figures' clock (--clock-mhz); 0: the board's

    COLUMNS = (("instructions", "instructions_per_inference", "{:,}"), ("per MAC", "instructions_per_mac", "{:.2f}"),
               ("ms (est.)", "ms_per_inference", "{:.2f}"),
               ("arena B", "arena_bytes", "{:,}"), ("RAM B (all)", "ram_bytes", "{:,}"), ("flash B", "flash_bytes", "{:,}"))
    CYCLE_COLUMNS = (("est. cycles", "cycles_per_inference", "{:,}"), ("est. cyc/MAC", "cycles_per_mac", "{:.2f}"),
                     ("est. ms", "cycles_ms_per_inference", "{:.2f}"))
    RATIOS = (("x instr", "instructions_per_inference"), ("x RAM", "ram_bytes"), ("x flash", "flash_bytes"))
    CYCLE_RATIOS = (("x est. cyc", "cycles_per_inference"),)

    @property
    def baseline(self) -> BenchRun:
        return self.runs[0]

    @property
    def clock(self) -> int:
        return self.clock_hz or self.board.clock_hz

    @property
    def has_cycles(self) -> bool:
        return all(r.estimates for r in self.runs)

    def columns(self):
        return self.COLUMNS[:3] + (self.CYCLE_COLUMNS if self.has_cycles else ()) + self.COLUMNS[3:]

    def ratios(self):
        return self.RATIOS[:1] + (self.CYCLE_RATIOS if self.has_cycles else ()) + self.RATIOS[1:]

    def ratio(self, run: BenchRun, attr: str) -> float:
        return getattr(run, attr) / getattr(self.baseline, attr)

    def cycle_measure(self) -> str:
        from ..cycles import CYCLE_MODELS

        return f"{CYCLE_MODELS[self.board.cycle_model][1]}, from QEMU's executed instruction stream"

    def as_dict(self) -> dict:
        return {"board": self.board.env, "model_sha256": self.model_sha256, "input_shape": list(self.input_shape),
                "macs": self.macs, "cpu_hz": self.clock, "runs": len(self.baseline.instructions), "baseline": self.baseline.runtime,
                "measure": "QEMU -icount shift=0 instructions (not cycles)",
                **({"cycle_model": self.board.cycle_model, "estimated_measure": self.cycle_measure()}
                   if self.has_cycles else {}),
                "rows": [dict(r.as_dict(), **{f"ratio_{a.replace('_per_inference', '')}": round(self.ratio(r, a), 4)
                                              for _, a in self.ratios()}) for r in self.runs]}

    def table_lines(self) -> list[str]:
        head = ["runtime", *[c for c, _, _ in self.columns()], *[c for c, _ in self.ratios()]]
        rows = []
        for r in self.runs:
            cells = [r.runtime]
            for _, attr, fmt in self.columns():
                value = getattr(r, attr)
                cells.append(fmt.format(value) if value is not None else "n/a")
            cells += [f"{self.ratio(r, a):.2f}" for _, a in self.ratios()]
            rows.append(cells)
        widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
        fmt = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
        shape = "x".join(map(str, self.input_shape))
        lines = [f"{self.board.env}, model {self.model_sha256[:16]} input {shape}, {self.macs:,} MACs; "
                 f"QEMU -icount instructions per inference (median of {len(self.baseline.instructions)}; ms at "
                 f"{self.clock / 1e6:g} MHz and 1 instruction/cycle, an estimate), ratios to "
                 f"{self.baseline.runtime}"]
        if self.has_cycles:
            lines.append(f"est.: {self.cycle_measure()}, ms at {self.clock / 1e6:g} MHz")
        return [*lines, fmt(head), *map(fmt, rows)]

    def profile_lines(self) -> list[str]:
        lines = []
        for r in self.runs:
            if not r.profile:
                continue
            with_cycles = len(r.profile_cycles) == len(r.profile)
            lines.append(f"per layer, {r.runtime} (first input): QEMU instructions"
                         + (", est. cycles" if with_cycles else ""))
            for k, (name, n, macs) in enumerate(r.profile):
                per = f"{n / macs:7.2f}/MAC" if macs else " " * 11
                line = f"  {name:<48} {n:>12,} {per}"
                if with_cycles:
                    c = r.profile_cycles[k]
                    line += f" {c:>12,} {c / macs:7.2f}/MAC" if macs else f" {c:>12,}"
                lines.append(line.rstrip())
        return lines


def compare(board_env: str, model, runtimes: list[str], runs: int = 3, profile: bool = False, opt: str = "-O2",
            workdir=None, log=print, memory: str = "balanced", cycles: bool = False,
            clock_mhz: float | None = None) -> Comparison:
    """`mobilenet-tiny bench`: build and run each runtime's image on the same inputs, outputs checked
    against each other (every runtime is bit-exact with TFLM, so they must agree). With `cycles`, every
    row also carries the cycle estimate; ms figures at `clock_mhz` (default: the board's clock)."""
    board = emulated_board(board_env)
    rts = [get_runtime(r) for r in runtimes]
    if not rts:
        raise UserError("--runtime names no runtime")
    for rt in rts:  # before the first image is built
        if rt.kernels:
            check_kernels(board, rt.kernels)
    if runs < 1:
        raise UserError("--runs must be at least 1")
    if clock_mhz is not None and not 0 < clock_mhz < 1e6:  # (NaN and infinity fail this too)
        raise UserError(f"--clock-mhz must be a positive clock in MHz, got {clock_mhz:g}")
    if cycles:
        check_cycle_model(board)
    clock_hz = round(clock_mhz * 1e6) if clock_mhz is not None else 0
    from ..model_facts import load_model_facts

    tflite_bytes = model if isinstance(model, bytes) else load_model_facts(model).data
    facts = _bench_facts(tflite_bytes)
    inputs = np.random.default_rng(0).integers(-128, 128, size=(runs, facts.input_bytes), dtype=np.int8)
    results = []
    with _work_dir(workdir) as work:
        for rt in rts:
            log(f"{board.env}: {rt.name}")
            run = run_inputs(tflite_bytes, board, rt, inputs, work / rt.name, cycles, opt=opt, log=log, memory=memory)
            if profile:  # a second image: the per-layer hooks cost instructions the figures should not carry
                traced = run_image(build_image(tflite_bytes, board, rt, inputs[:1], work / f"{rt.name}-profile",
                                               opt=opt, trace=True, log=log, memory=memory), cycles=cycles)
                run.profile, run.profile_cycles = traced.profile, traced.profile_cycles
            run.clock_hz = clock_hz
            results.append(run)
    for r in results[1:]:
        if not np.array_equal(r.outputs, results[0].outputs):
            raise UserError(f"{r.runtime} and {results[0].runtime} give different outputs on {board.env}")
    macs = next((r.image.macs for r in results if r.image.macs), 0)
    return Comparison(board, facts.sha256, facts.input_shape, macs, results, clock_hz)
