"""What the op table's entries share: the kernel call a lowering returns, and the compile-time helpers
several operators use (padding, folded biases, the channel quantization table, packed filters)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...errors import UserError
from ...model_facts import Operator, Tensor
from .. import quantization as qz

FUSED_ACTIVATIONS = ("NONE", "RELU", "RELU6", "RELU_N1_TO_1")


@dataclass
class ConstArray:
    suffix: str  # the C name is <layer>_<suffix>
    ctype: str  # int8_t, int16_t or int32_t
    values: np.ndarray
    shape_comment: str = ""


@dataclass
class Call:
    """One kernel call as a lowering writes it: the descriptor's designated initializers (in order), its
    constant arrays, the activation tensors it reads (in argument order) and writes, and a comment."""
    fields: list[tuple[str, object]]
    arrays: list[ConstArray]
    inputs: list[int]
    output: int
    comment: str
    alias_of: int | None = None  # RESHAPE: no code, the output shares the input's memory
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Rows:
    """How a step's output rows depend on the rows of one input: output row r reads input rows
    [r * stride - pad_top, r * stride - pad_top + filter_h), clipped to the input (beyond it: padding)."""
    in_h: int
    out_h: int
    filter_h: int = 1
    stride: int = 1
    pad_top: int = 0

    def first(self, out_row: int) -> int:
        """The first input row output row `out_row` reads."""
        return max(0, out_row * self.stride - self.pad_top)

    def end(self, out_end: int) -> int:
        """One past the last input row the output rows below `out_end` (>= 1) read."""
        return min(self.in_h, (out_end - 1) * self.stride - self.pad_top + self.filter_h)

    def ready(self, in_done: int) -> int:
        """How many output rows the first `in_done` input rows allow (all once the input is complete)."""
        if in_done >= self.in_h:
            return self.out_h
        return max(0, min(self.out_h, (in_done + self.pad_top - self.filter_h) // self.stride + 1))


def window_rows(graph, step) -> list[Rows]:
    """Row geometry of a windowed op (convolutions, pools) from its descriptor."""
    f = dict(step.fields)
    return [Rows(f["in_h"], f["out_h"], f["filter_h"], f["stride_h"], f["pad_top"])]


def window_band(graph, step, in_rows: str, out_rows: str, pad_top: str) -> list[tuple[str, str]]:
    """A windowed op's descriptor restricted to a band: its input rows, output rows and the padding above."""
    return [("in_h", in_rows), ("out_h", out_rows), ("pad_top", pad_top)]


def elementwise_rows(graph, step) -> list[Rows] | None:
    """Row geometry of an element-wise op over a 4-D tensor: output row r reads row r of every input."""
    shape = graph.tensor(step.output).shape
    if len(shape) != 4:
        return None
    return [Rows(shape[1], shape[1]) for _ in step.inputs]


def elementwise_band(graph, step, in_rows: str, out_rows: str, pad_top: str) -> list[tuple[str, str]]:
    _, _, w, c = graph.tensor(step.output).shape
    return [("size", f"{out_rows} * {w * c}u")]


def hwc(t: Tensor) -> tuple[int, int, int]:
    if len(t.shape) != 4:
        raise UserError(f"tensor {t.describe()} must be 4-D NHWC here")
    return t.shape[1], t.shape[2], t.shape[3]


def quant_text(t: Tensor) -> str:
    return f"s={t.scale:.6g} zp={t.zero_point}"


def op_tensors(graph, op: Operator):
    """(first input, output) of an operator."""
    return graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])


def check_fused_activation(graph, op: Operator) -> None:
    act = op.options.get("activation", "NONE")
    if act not in FUSED_ACTIVATIONS:
        raise UserError(f"operator {op.index} {op.name} (output tensor {graph.tensor(op.outputs[0]).describe()})"
                        f" has fused activation {act}, which the compiled runtime does not support")


def check_window_op(graph, op: Operator) -> None:
    """Convolutions: dilation 1 only, and a fused activation the kernels implement."""
    dilation = op.options.get("dilation", (1, 1))
    if tuple(dilation) != (1, 1):
        raise UserError(f"operator {op.index} {op.name} (output tensor {graph.tensor(op.outputs[0]).describe()})"
                        f" uses dilation {tuple(dilation)}; the compiled runtime supports dilation 1 only")
    check_fused_activation(graph, op)


def padding_before(padding: str, in_size: int, filter_size: int, stride: int, out_size: int) -> int:
    """TFLM ComputePaddingWithOffset: the leading pad (the extra odd pixel goes to the end)."""
    if stride < 1 or filter_size < 1:
        raise UserError(f"stride {stride} and window {filter_size} must be at least 1")
    if padding == "SAME":
        expected = (in_size + stride - 1) // stride
    elif padding == "VALID":
        expected = (in_size + stride - filter_size) // stride
    else:
        raise UserError(f"unknown padding {padding!r}")
    if expected != out_size:
        raise UserError(f"output size {out_size} does not match {padding} padding (expected {expected})")
    total = max((out_size - 1) * stride + filter_size - in_size, 0)
    return total // 2


def _wrap_int32(values) -> np.ndarray:
    v = np.asarray(values, np.int64) & 0xFFFFFFFF
    return np.where(v >= 1 << 31, v - (1 << 32), v).astype(np.int64)


def folded_bias(graph, op: Operator, filter_sums: np.ndarray, input_zp: int) -> np.ndarray:
    """bias + input_offset · Σ filter (input_offset = −input zero point), in wrapping int32 arithmetic."""
    n = filter_sums.shape[0]
    bias_t = graph.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
    if bias_t is not None:
        if bias_t.data is None or bias_t.dtype != "int32":
            raise UserError(f"operator {op.index} {op.name}: bias {bias_t.describe()} must be a constant int32 "
                            "tensor")
        bias = bias_t.data.reshape(-1).astype(np.int64)
        if bias.size != n:
            raise UserError(f"operator {op.index} {op.name}: bias {bias_t.describe()} has {bias.size} values for "
                            f"{n} output channels")
    else:
        bias = np.zeros(n, np.int64)
    return _wrap_int32(bias - input_zp * filter_sums.astype(np.int64))


def const_filter(graph, op: Operator, rank: int) -> Tensor:
    f = graph.tensor(op.inputs[1])
    if f is None or f.data is None:
        raise UserError(f"operator {op.index} {op.name}: weights must be a constant tensor")
    if len(f.shape) != rank or f.data.shape != f.shape:
        raise UserError(f"operator {op.index} {op.name}: weights {f.describe()} must be {rank}-D and hold "
                        f"{f.size} values (they hold {f.data.size})")
    if f.dtype != "int8":
        raise UserError(f"operator {op.index} {op.name}: weights {f.describe()} are {f.dtype}; "
                        "the compiled runtime needs int8 weights")
    if f.zero_points is not None and np.any(f.zero_points != 0):
        raise UserError(f"operator {op.index} {op.name}: weights {f.describe()} have a non-zero zero point")
    return f


def _folds(multipliers, shifts, acc_bound: int) -> bool:
    """Whether a layer may use the DSP path's folded output stage (mtk_output_folded: SMMLAR + two ALU
    operations): every right shift r in [1, 23] (so rounding = 2^(r-1) + zp*2^r fits in int32) and every
    accumulator provably below 2^30 in magnitude (2*acc must not overflow)."""
    r = -np.asarray(shifts, np.int64)
    return bool(r.size and r.min() >= 1 and r.max() <= 23 and np.all(np.asarray(multipliers) >= 0)
                and acc_bound < (1 << 30))


def accumulator_bound(filter_rows: np.ndarray, bias: np.ndarray) -> int:
    """Largest |accumulator| any int8 input can produce: |bias| + 128 * sum |w| per output channel."""
    rows = np.abs(filter_rows.astype(np.int64)).sum(axis=1)
    return int((np.abs(bias.astype(np.int64)) + 128 * rows).max())


def channel_quant_table(layer: str, group: int, bias, multipliers, shifts, output_zp: int, acc_bound: int):
    """The kernels' channel table (mtk_kernels.h): blocks of `group` channels, each bias[group],
    multiplier[group], rounding[group], shift-or-r[group], so one pointer reaches a channel group's
    parameters. Returns the descriptor fields and the array."""
    folded = _folds(multipliers, shifts, acc_bound)
    n = len(bias)
    blocks = -(-n // group)
    table = np.zeros((4, blocks * group), np.int64)
    table[0, :n], table[1, :n] = bias, multipliers
    shifts = np.asarray(shifts, np.int64)
    if folded:
        table[2, :n] = (1 << (-shifts - 1)) + output_zp * (1 << -shifts)
        table[3, :n] = -shifts
    else:
        table[3, :n] = shifts
    table = table.reshape(4, blocks, group).transpose(1, 0, 2).reshape(-1)
    columns = "rounding = 2^(r-1) + output_zero_point * 2^r, r = -shift" if folded else "0, shift"
    comment = (f"{n} channels in blocks of {group}: bias (input_offset * sum(filter) folded in), multiplier, "
               f"{columns} ({group} of each)")
    return ([("quant", f"{layer}_quant"), ("folded", int(folded))],
            ConstArray("quant", "int32_t", table, comment))


def pack_filter_rows(rows: np.ndarray) -> np.ndarray:
    """The kernels' packed filter layout (mtk_kernels.h): rows zero-padded to a multiple of 4, pairs of rows
    interleaved in blocks of 4 so one 8-byte load feeds two filters; an odd last row stays whole."""
    out_c, k = rows.shape
    k4 = -(-k // 4) * 4
    padded = np.zeros((out_c, k4), np.int8)
    padded[:, :k] = rows
    pairs = out_c // 2 * 2
    interleaved = padded[:pairs].reshape(pairs // 2, 2, k4 // 4, 4).transpose(0, 2, 1, 3).reshape(-1)
    return np.concatenate([interleaved, padded[pairs:].reshape(-1)])


def output_quant_fields(out: Tensor, activation: str) -> str:
    lo, hi = qz.activation_range(activation, out.scale, out.zero_point)
    return f"{{ .output_zero_point = {out.zero_point}, .act_min = {lo}, .act_max = {hi} }}"


def same_quantization(a: Tensor, b: Tensor) -> bool:
    return (a.scale, a.zero_point) == (b.scale, b.zero_point)
