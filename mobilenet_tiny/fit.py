"""`mobilenet-tiny fit`: which MobileNets fit a board, before any training.

RAM and flash of a compiled model depend on its shapes only (the arena on tensor sizes, the constants on
weight counts), not on what the weights are. So fit builds, per width multiplier α, one random-weight
Keras model (batch norms randomized so int8 ranges do not collapse), quantizes it post-training on random
images (the project's converter), and re-sizes the int8 model to every candidate resolution by writing the
tensors' shapes into a copy of the .tflite (the weights do not depend on the resolution of these
architectures: global pooling comes before the classifier). Each candidate is compiled for real
(--memory's schedule) and its figures are:

- RAM: the arena plus the firmware's fixed RAM, "all included" as `bench` counts it (static data and the
  stack's high-water mark of an inference): FIXED on the emulated boards, measured there;
- flash: the model's constants plus its generated code and tables, plus the firmware's fixed flash;
- latency: instructions estimated from the compiler's per-layer model of the Arm DSP path (scaled for the
  RISC-V path and for portable C), at one instruction per cycle, at --clock-mhz or the board's clock.

The candidates and their models are cached (~/.cache/mobilenet-tiny/fit/), so a second run compiles only.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .device.board import Board, get_board
from .errors import UserError
from .fileio import atomic_write

ALPHAS = {"v1": (0.25, 0.35, 0.5, 0.75, 1.0), "v2": (0.35, 0.5, 0.75, 1.0)}
RESOLUTIONS = (64, 96, 128, 160, 192, 224)
REFERENCE_RESOLUTION = 96  # the resolution the int8 model is converted at, before re-sizing

# What the firmware needs besides the model, as the benchmark counts it (RAM: static data other than the
# arena plus the stack's high-water mark of an inference; flash: the kernels, the runtime and start-up
# code), and per generated step (its descriptor and call) and per band call (its table entry). Measured with
# the benchmark harness, which runs the firmware's own runtime and board code (its UART receive ring and
# vectors included): V1 α0.25 at 96 and 160 on qemu_m4, qemu_m55 and qemu_rv32, a board taking its kernel
# path's figures. The Arm figure is the DSP path's code (its written-out loops are most of it: 21.5 KB before
# the cycle-estimate work's kernels); the Cortex-M55's Helium build carries its MVE kernels besides the DSP
# ones. Re-measure after any kernel change: tests/compiler/test_memory_qemu.py holds fit's flash and RAM to
# within 1 % of the benchmark's.
FIXED = {"arm": {"ram": 1_548, "flash": 70_200}, "mve": {"ram": 2_000, "flash": 98_270},
         "riscv32": {"ram": 5_340, "flash": 28_100}}
FLASH_PER_STEP = 100
FLASH_PER_BAND = 10
# Instructions per instruction of the Arm DSP path, for the other paths (the suite's V1 and V2, `--memory
# fast`: RV32IMAC 2.64x / 2.53x the Cortex-M4's DSP path, portable C 5.78x / 6.06x on the Cortex-M4, the
# Cortex-M55's Helium path 0.31x / 0.39x its DSP path, `bench --runtime compiled,compiled-dsp`).
PATH_FACTOR = {"dsp": 1.0, "mve": 0.35, "riscv": 2.6, "portable": 5.9}


@dataclass
class Candidate:
    arch: str
    alpha: float
    input_shape: tuple[int, int, int]
    macs: int
    ram_bytes: int  # estimated, all included
    flash_bytes: int  # estimated
    arena_bytes: int
    constant_bytes: int
    schedule: str
    instructions: int  # estimated
    latency_ms: float  # estimated
    fits_ram: bool = False
    fits_flash: bool = False
    fits_latency: bool = True
    largest: bool = False
    model_path: str = ""  # the candidate's int8 .tflite (random weights), in the cache

    @property
    def fits(self) -> bool:
        return self.fits_ram and self.fits_flash and self.fits_latency

    def as_dict(self) -> dict:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        d["fits"] = self.fits
        return d


@dataclass
class FitResult:
    board: Board
    memory: str
    path: str  # dsp, riscv or portable: whose instructions the latency estimate counts
    clock_hz: int
    latency_ms: float | None
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def pick(self) -> Candidate | None:
        return next((c for c in self.candidates if c.largest), None)

    def as_dict(self) -> dict:
        return {"board": self.board.env, "ram_budget_bytes": self.board.ram_bytes,
                "flash_budget_bytes": self.board.flash_bytes, "memory": self.memory, "latency_path": self.path,
                "clock_hz": self.clock_hz, "latency_limit_ms": self.latency_ms,
                "pick": self.pick.as_dict() if self.pick else None,
                "candidates": [c.as_dict() for c in self.candidates]}


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mobilenet-tiny" / "fit"


def _code_hash() -> str:
    """What a reference model depends on: the builders, the converter and the random statistics."""
    import inspect

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(inspect.getsource(randomize_batchnorm).encode())
    for sub in ("models", "convert/tflite.py"):
        for f in sorted((root / sub).rglob("*.py")) if (root / sub).is_dir() else [root / sub]:
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def randomize_batchnorm(model, seed: int = 0):
    """Random batch-norm statistics: a freshly built model's defaults make int8 ranges collapse (TFLM's
    softmax then refuses the model; see shared/notes/tensorflow-qat.md)."""
    from .tf_env import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, m, v = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, g.shape), rng.uniform(-0.5, 0.5, b.shape),
                               rng.uniform(-0.5, 0.5, m.shape), rng.uniform(0.5, 2.0, v.shape)])
    return model


def reference_model(arch: str, alpha: float, channels: int, classes: int, resolution: int = REFERENCE_RESOLUTION,
                    log=print) -> bytes:
    """The int8 .tflite of a random-weight model (cached by its parameters and the code that makes it)."""
    key = {"arch": arch, "alpha": alpha, "channels": channels, "classes": classes, "resolution": resolution,
           "code": _code_hash()}
    path = cache_dir() / f"{arch}-a{alpha:g}-{resolution}x{resolution}x{channels}-c{classes}-" \
                         f"{hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]}.tflite"
    if path.is_file():
        return path.read_bytes()
    from .convert.tflite import keras_to_int8_tflite
    from .models import build_model
    from .tf_env import tf

    log(f"fit: converting a random-weight {arch} α{alpha:g} (once; cached in {cache_dir()})")
    tf.keras.utils.set_random_seed(0)
    model = build_model(arch, input_shape=(resolution, resolution, channels), alpha=alpha, num_classes=classes)
    randomize_batchnorm(model)
    images = np.random.default_rng(0).uniform(0, 1, (8, resolution, resolution, channels)).astype(np.float32)
    data = keras_to_int8_tflite(model, images)
    atomic_write(path, data)
    return data


_SAME_SHAPE = {"ADD", "MUL", "RELU", "RELU6", "HARD_SWISH", "QUANTIZE", "LOGISTIC", "SOFTMAX"}


def at_resolution(model_bytes: bytes, height: int, width: int) -> bytes:
    """The same int8 model for another input height and width: every activation tensor's shape written as
    the operators compute it (SAME/VALID windows, element-wise ops, global means). Raises UserError for a
    model whose weights depend on the resolution (a Flatten before a dense layer) or an op it cannot size."""
    import tflite

    from .model_facts import read_model_facts

    facts = read_model_facts(model_bytes)
    shapes = {t.index: list(t.shape) for t in facts.tensors}
    x = facts.input
    if len(x.shape) != 4:
        raise UserError("fit re-sizes image models (NHWC input) only")
    shapes[x.index] = [1, height, width, x.shape[3]]
    for op in facts.operators:
        ins = [shapes[t] for t in op.inputs if t >= 0]
        out = facts.tensors[op.outputs[0]]
        if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D"):
            fh, fw = op.options["filter"] if "filter" in op.options else facts.tensors[op.inputs[1]].shape[1:3]
            sh, sw = op.options["stride"]
            h, w = ins[0][1], ins[0][2]
            if op.options["padding"] == "SAME":
                oh, ow = -(-h // sh), -(-w // sw)
            else:
                oh, ow = (h - fh) // sh + 1, (w - fw) // sw + 1
            if oh < 1 or ow < 1:
                raise UserError(f"input {height}x{width} is too small for operator {op.index} {op.name}")
            shapes[out.index] = [1, oh, ow, out.shape[3]]
        elif op.name in _SAME_SHAPE:
            shapes[out.index] = list(ins[0])
        elif op.name == "MEAN" and len(ins[0]) == 4 and sorted(
                int(a) % 4 for a in facts.tensors[op.inputs[1]].data.reshape(-1)) == [1, 2]:
            pass  # over height and width: the output does not depend on them
        elif any(shapes[t] != list(facts.tensors[t].shape) for t in op.inputs if t >= 0):
            raise UserError(f"fit cannot re-size this model: operator {op.index} {op.name} reads a tensor whose "
                            "shape depends on the resolution")
    data = bytearray(model_bytes)
    sub = tflite.Model.GetRootAs(data, 0).Subgraphs(0)
    for i in range(sub.TensorsLength()):
        t = sub.Tensors(i)
        if t.ShapeLength():
            t.ShapeAsNumpy()[:] = shapes[i]
        if t.ShapeSignatureLength() == len(shapes[i]):
            sig = t.ShapeSignatureAsNumpy()
            sig[1:] = [v if s >= 0 else s for v, s in zip(shapes[i][1:], sig[1:])]
    return bytes(data)


def fit(board_env: str, arch: str = "v1", input_shape: tuple[int, int, int] | None = None, classes: int = 2,
        latency_ms: float | None = None, clock_mhz: float | None = None, memory: str = "balanced",
        alphas=None, resolutions=None, ram_bytes: int | None = None, flash_bytes: int | None = None,
        log=print) -> FitResult:
    """Every candidate (α × resolution, or α at `input_shape`) compiled and judged against the board's
    budget (or a smaller one: `ram_bytes`, `flash_bytes`)."""
    from .compiler import MEMORY_MODES, plan_model
    from .compiler.codegen import constant_bytes
    from .models import check_arch
    from .models.common import check_classes, check_input_shape

    board = get_board(board_env)
    for what, value, limit in (("RAM", ram_bytes, board.ram_bytes), ("flash", flash_bytes, board.flash_bytes)):
        if value is not None and not 0 < value <= limit:
            raise UserError(f"a {what} budget of {value:,} B: it must be positive and at most {board.env}'s "
                            f"{limit:,} B")
    board = replace(board, ram_bytes=ram_bytes or board.ram_bytes, flash_bytes=flash_bytes or board.flash_bytes)
    check_arch(arch)
    check_classes(classes)
    if memory not in MEMORY_MODES:
        raise UserError(f"unknown memory mode {memory!r}: choose one of {', '.join(MEMORY_MODES)}")
    if latency_ms is not None and latency_ms <= 0:
        raise UserError(f"--latency-ms must be positive, got {latency_ms:g}")
    if clock_mhz is not None and clock_mhz <= 0:
        raise UserError(f"--clock-mhz must be positive, got {clock_mhz:g}")
    if input_shape is not None:
        input_shape = check_input_shape(input_shape)
        shapes = [input_shape]
    else:
        shapes = [(r, r, 1) for r in (resolutions or RESOLUTIONS)]
    channels = shapes[0][2]
    clock_hz = int(clock_mhz * 1e6) if clock_mhz else board.clock_hz
    path = board.kernel_path
    fixed = FIXED["riscv32" if path == "riscv" else "mve" if path == "mve" else "arm"]
    result = FitResult(board, memory, path, clock_hz, latency_ms)
    for alpha in alphas or ALPHAS[arch]:
        reference = reference_model(arch, alpha, channels, classes, shapes[0][0] if input_shape else
                                    REFERENCE_RESOLUTION, log=log)
        for h, w, c in shapes:
            model = reference if input_shape else at_resolution(reference, h, w)
            model_path = cache_dir() / f"{arch}-a{alpha:g}-{h}x{w}x{c}-c{classes}-" \
                                       f"{hashlib.sha256(model).hexdigest()[:12]}.tflite"
            if not model_path.is_file():
                atomic_write(model_path, model)
            _, steps, plan = plan_model(model, memory)
            stage, arena, weights = plan.plan.stage, plan.plan.arena_bytes, constant_bytes(steps)
            flash = (fixed["flash"] + weights + FLASH_PER_STEP * len(steps)
                     + (FLASH_PER_BAND * len(stage.calls) if stage is not None else 0))
            instructions = int(plan.baseline_instructions * plan.ratio(plan.chosen) * PATH_FACTOR[path])
            ms = instructions / clock_hz * 1e3 if clock_hz else float("nan")
            cand = Candidate(arch, alpha, (h, w, c), sum(s.macs for s in steps), arena + fixed["ram"], flash, arena,
                             weights, plan.plan.schedule, instructions, ms, model_path=str(model_path))
            cand.fits_ram = cand.ram_bytes <= board.ram_bytes
            cand.fits_flash = cand.flash_bytes <= board.flash_bytes
            cand.fits_latency = latency_ms is None or ms <= latency_ms
            result.candidates.append(cand)
    fitting = [c for c in result.candidates if c.fits]
    if fitting:
        max(fitting, key=lambda c: (c.macs, c.alpha)).largest = True
    return result


def table_lines(result: FitResult) -> list[str]:
    b = result.board
    lines = [f"{b.env}: RAM budget {b.ram_bytes:,} B, flash {b.flash_bytes:,} B"
             + (f", latency {result.latency_ms:g} ms" if result.latency_ms else "")
             + f"; memory {result.memory}; latency estimated for the {result.path} path at "
               f"{result.clock_hz / 1e6:g} MHz (1 instruction/cycle); RAM all included (arena + the firmware's "
               "measured static data and stack)",
             f"{'':2}{'model':<16}{'input':>12}{'MACs':>13}{'RAM':>11}{'flash':>12}{'latency':>12}  schedule"]
    for c in result.candidates:
        mark = "* " if c.largest else ("  " if c.fits else "x ")
        why = [] if c.fits else [w for w, ok in (("RAM", c.fits_ram), ("flash", c.fits_flash),
                                                 ("latency", c.fits_latency)) if not ok]
        lines.append(f"{mark}{c.arch + ' α' + format(c.alpha, 'g'):<16}{'x'.join(map(str, c.input_shape)):>12}"
                     f"{c.macs:>13,}{c.ram_bytes:>11,}{c.flash_bytes:>12,}{c.latency_ms:>10.1f}ms  {c.schedule}"
                     + (f"  (too much {', '.join(why)})" if why else ""))
    pick = result.pick
    lines.append(f"* the largest that fits: {pick.arch} α{pick.alpha:g} {'x'.join(map(str, pick.input_shape))}"
                 if pick else "nothing fits this board's budget")
    return lines


def pick_for_training(board_env: str, arch: str, alpha: float | None, input_text: str | None, log=print
                      ) -> tuple[float, tuple[int, int, int]]:
    """`train --fit-board`: fit's pick for the board, α and input; with --input (HxW or HxWxC, gray when no
    channels are given) only α varies, else the resolution too (gray)."""
    from .train import parse_input_size

    if alpha is not None:
        raise UserError("--alpha and --fit-board both choose the width multiplier: give one of them")
    shape = None
    if input_text:
        h, w, c = parse_input_size(input_text)
        shape = (h, w, c or 1)
    result = fit(board_env, arch, shape, log=log)
    pick = result.pick
    if pick is None:
        raise UserError(f"no {arch} candidate fits {board_env} (see `mobilenet-tiny fit --board {board_env}`)")
    log(f"fit {board_env}: {arch} α{pick.alpha:g} {'x'.join(map(str, pick.input_shape))}, estimated RAM "
        f"{pick.ram_bytes:,} of {result.board.ram_bytes:,} B, flash {pick.flash_bytes:,} of "
        f"{result.board.flash_bytes:,} B")
    return pick.alpha, pick.input_shape
