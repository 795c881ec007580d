"""Host runtimes for int8 .tflite models, all with one call shape: `run(int8 input) -> int8 output`.

- `TflmInterpreter`: the real TensorFlow Lite Micro interpreter (tflite-micro wheel). It is the authority:
  every runtime this project ships must match it byte for byte.
- `LiteRtInterpreter`: LiteRT (ai-edge-litert) with the *reference* kernels. A second opinion; the default
  XNNPACK path is not bit-exact with TFLM, and even the reference kernels may differ by a unit on rare inputs.
"""
import contextlib
import re
import struct
import tempfile
from dataclasses import dataclass

import numpy as np

from .errors import UserError, one_line


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[int, ...]
    dtype: type
    scale: float
    zero_point: int

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


def _info(details: dict) -> TensorInfo:
    q = details.get("quantization_parameters") or {}
    scales = list(q.get("scales", [])) or [details.get("quantization", (0.0, 0))[0]]
    zps = list(q.get("zero_points", [])) or [details.get("quantization", (0.0, 0))[1]]
    return TensorInfo(tuple(int(d) for d in details["shape"]), np.dtype(details["dtype"]).type,
                      float(scales[0]), int(zps[0]))


class _Runner:
    input_details: TensorInfo
    output_details: TensorInfo

    def _prepare(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype != self.input_details.dtype:
            raise ValueError(f"input dtype {x.dtype} != model input {np.dtype(self.input_details.dtype)}")
        if x.size != self.input_details.size:
            raise ValueError(f"input of {x.size} values != model input shape {self.input_details.shape}")
        return np.ascontiguousarray(x.reshape(self.input_details.shape))

    def run_batch(self, xs) -> np.ndarray:
        """Run every item of `xs` (N × input shape without batch); returns N × output size."""
        return np.stack([self.run(x).reshape(-1) for x in xs]) if len(xs) else np.zeros(
            (0, self.output_details.size), self.output_details.dtype)


class TflmInterpreter(_Runner):
    """The host build of TensorFlow Lite Micro."""

    def __init__(self, model_bytes: bytes, arena_size: int | None = None):
        from tflite_micro import runtime

        # The wheel's default (10 × model size) is too small for tiny models with large activations.
        arena = arena_size or max(len(model_bytes) * 10, 4 * 1024 * 1024)
        try:
            self._interp = runtime.Interpreter.from_bytes(bytes(model_bytes), arena_size=arena)
        except (RuntimeError, ValueError, IndexError, TypeError, struct.error) as e:
            # struct.error / IndexError / TypeError: the wrapper unpacks the flatbuffer in Python before TFLM
            # does (model_facts' reading usually refuses such a file first).
            raise UserError(f"TFLM cannot load the model: {one_line(e) or type(e).__name__}"[:330]) from None
        self.input_details = _info(self._interp.get_input_details(0))
        self.output_details = _info(self._interp.get_output_details(0))

    def run(self, x) -> np.ndarray:
        self._interp.set_input(self._prepare(x), 0)
        self._interp.invoke()
        return np.array(self._interp.get_output(0), copy=True)

    def arena_used_bytes(self) -> int:
        """Bytes of the arena TFLM actually allocated (host build: 64-bit pointers, so an upper bound
        for a 32-bit MCU). Read from the recording allocator's report, which goes to the C-level stderr."""
        text = _capture_fd2(self._interp.print_allocations)
        m = re.search(r"Arena allocation total (\d+) bytes", text)
        if not m:
            raise RuntimeError(f"no arena total in TFLM's allocation report: {text[:200]!r}")
        return int(m.group(1))


class LiteRtInterpreter(_Runner):
    """LiteRT with reference kernels (BUILTIN_REF), single-threaded."""

    def __init__(self, model_bytes: bytes):
        from ai_edge_litert import interpreter as litert

        try:
            self._interp = litert.Interpreter(
                model_content=bytes(model_bytes), num_threads=1,
                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
            self._interp.allocate_tensors()
        except (RuntimeError, ValueError) as e:
            raise UserError(f"LiteRT cannot load the model: {one_line(e)[:300]}") from None
        self._in = self._interp.get_input_details()[0]
        self._out = self._interp.get_output_details()[0]
        self.input_details = _info(self._in)
        self.output_details = _info(self._out)

    def run(self, x) -> np.ndarray:
        self._interp.set_tensor(self._in["index"], self._prepare(x))
        self._interp.invoke()
        return np.array(self._interp.get_tensor(self._out["index"]), copy=True)


RUNTIMES = {"tflm": TflmInterpreter, "litert": LiteRtInterpreter}


def make_interpreter(runtime: str, model_bytes: bytes) -> _Runner:
    if runtime not in RUNTIMES:
        raise UserError(f"unknown runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    return RUNTIMES[runtime](model_bytes)


def quantize_pixels(pixels: np.ndarray, info: TensorInfo) -> np.ndarray:
    """uint8 pixels → the model's int8 input, for a model trained on pixels / 255.

    Goes through a 256-entry table so that the host and the firmware (which embeds the same table)
    quantize identically, whatever the float rounding of either side."""
    return pixel_lut(info.scale, info.zero_point)[np.asarray(pixels, dtype=np.uint8)]


def pixel_lut(scale: float, zero_point: int) -> np.ndarray:
    p = np.arange(256, dtype=np.float64)
    q = np.round(p / 255.0 / scale) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def _capture_fd2(fn) -> str:
    """Run fn() and return what it wrote to the process-level stderr (C++ writes there)."""
    from .stderr_capture import capture_fd2

    with capture_fd2(replay_on_error=False) as captured:
        with contextlib.suppress(Exception):
            fn()
    return captured.text


DEFAULT_PROBE_ARENA = 8 * 1024 * 1024


def measure_tflm_arena(model_bytes: bytes, arena_limit: int | None = None) -> int:
    """Bytes of tensor arena TFLM allocates for the model (host build), measured in a child process.

    `arena_limit` makes TFLM allocate inside that many bytes, as a board's RAM budget would; a model that
    does not fit, an op TFLM lacks, or a Prepare that aborts becomes a one-line UserError."""
    import json
    import subprocess
    import sys

    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(model_bytes)
        f.flush()
        proc = subprocess.run([sys.executable, "-m", "mobilenet_tiny.tflm_probe", f.name,
                               str(arena_limit or DEFAULT_PROBE_ARENA)], capture_output=True, text=True, timeout=300)
    if proc.returncode < 0:
        hint = _tflm_complaint(proc.stderr)
        raise UserError(f"TFLM aborted while preparing the model (signal {-proc.returncode})"
                        + (f": {hint}" if hint else "; an untrained model with collapsed activation scales does this"))
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        raise UserError(f"TFLM probe failed: {_tflm_complaint(proc.stderr) or proc.stderr.strip()[-200:]}") from None
    if not result["ok"]:
        complaint = _tflm_complaint(proc.stderr) or result["error"]
        missing = re.search(r"Didn't find op for builtin opcode '(\w+)'", proc.stderr + str(result["error"]))
        if missing:
            raise UserError(f"op {missing.group(1)} is not supported by TensorFlow Lite Micro")
        if arena_limit and "allocat" in (proc.stderr + str(result["error"])).lower():
            raise UserError(f"TFLM cannot allocate the tensor arena in {arena_limit} bytes: {complaint}")
        raise UserError(f"TFLM cannot run the model: {complaint}")
    return int(result["arena_used_bytes"])


def check_tflm_accepts(model_bytes: bytes) -> None:
    """UserError unless the host TFLM interpreter loads, prepares and runs the model. In a child process:
    TFLM's Prepare aborts the process on some models it cannot run, which must not take the command down."""
    measure_tflm_arena(model_bytes)


def _tflm_complaint(stderr: str) -> str:
    """The most telling line TFLM printed (it reports through MicroPrintf, on stderr)."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip() and not ln.startswith(("WARNING", "I0000"))]
    for key in ("Didn't find op", "Failed to", "not supported", "arena", "Arena", "Check failed", "Assert"):
        for ln in lines:
            if key in ln:
                return ln[:300]
    return lines[-1][:300] if lines else ""
