"""Turn each TFLite operator into one kernel call: the C descriptor fields, its constant arrays, the
activation tensors it reads and writes, a readable comment and its MAC count.

Everything data-dependent is computed here at compile time (multipliers and shifts as TFLM's Prepare
computes them, padding, activation ranges, biases with the input offset folded in), so the C kernels only
do integer arithmetic.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from . import quantization as qz
from .reader import Graph, Operator, Tensor


@dataclass
class ConstArray:
    suffix: str  # the C name is <layer>_<suffix>
    ctype: str  # int8_t, int16_t or int32_t
    values: np.ndarray
    shape_comment: str = ""


@dataclass
class Step:
    op: Operator
    layer: str  # C identifier of the layer, unique in the model
    kernel: str | None  # C function; None for aliases (RESHAPE)
    params_type: str | None
    fields: list[tuple[str, str]]  # designated initializers, in order
    arrays: list[ConstArray]
    inputs: list[int]  # activation tensors read, in kernel argument order
    output: int
    comment: str
    macs: int = 0
    alias_of: int | None = None  # RESHAPE: output shares the input's memory
    scratch_bytes: int = 0  # working memory the kernel needs during this step (planned into the arena)
    notes: list[str] = field(default_factory=list)


def _hwc(t: Tensor) -> tuple[int, int, int]:
    shape = t.shape
    if len(shape) != 4:
        raise UserError(f"tensor {t.describe()} must be 4-D NHWC here")
    return shape[1], shape[2], shape[3]


def _q(t: Tensor) -> tuple[float, int]:
    return float(t.scale[0]), int(t.zero_point[0])


def _quant_text(t: Tensor) -> str:
    scale, zp = _q(t)
    return f"s={scale:.6g} zp={zp}"


def _padding(padding: str, in_size: int, filter_size: int, stride: int, out_size: int) -> int:
    """TFLM ComputePaddingWithOffset: the leading pad (the extra odd pixel goes to the end)."""
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


def _folded_bias(graph: Graph, op: Operator, filter_sums: np.ndarray, input_zp: int) -> np.ndarray:
    """bias + input_offset · Σ filter (input_offset = −input zero point), in wrapping int32 arithmetic."""
    n = filter_sums.shape[0]
    bias_t = graph.tensor(op.inputs[2]) if len(op.inputs) > 2 else None
    if bias_t is not None:
        if bias_t.data is None or bias_t.dtype != "int32":
            raise UserError(f"operator {op.index} {op.name}: bias {bias_t.describe()} must be a constant int32 "
                            "tensor")
        bias = bias_t.data.reshape(-1).astype(np.int64)
    else:
        bias = np.zeros(n, np.int64)
    return _wrap_int32(bias - input_zp * filter_sums.astype(np.int64))


def _const_filter(graph: Graph, op: Operator) -> Tensor:
    f = graph.tensor(op.inputs[1])
    if f is None or f.data is None:
        raise UserError(f"operator {op.index} {op.name}: weights must be a constant tensor")
    if f.dtype != "int8":
        raise UserError(f"operator {op.index} {op.name}: weights {f.describe()} are {f.dtype}; "
                        "the compiled runtime needs int8 weights")
    if f.zero_point is not None and np.any(f.zero_point != 0):
        raise UserError(f"operator {op.index} {op.name}: weights {f.describe()} have a non-zero zero point")
    return f


def _folds(multipliers, shifts, acc_bound: int) -> bool:
    """Whether a layer may use the DSP path's folded output stage (mtk_output_folded: SMMLAR + two ALU
    operations): every right shift r in [1, 23] (so rounding = 2^(r-1) + zp*2^r fits in int32) and every
    accumulator provably below 2^30 in magnitude (2*acc must not overflow)."""
    r = -np.asarray(shifts, np.int64)
    return bool(r.size and r.min() >= 1 and r.max() <= 23 and np.all(np.asarray(multipliers) >= 0)
                and acc_bound < (1 << 30))


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


def depthwise_filter_groups(filter_1hwo: np.ndarray) -> np.ndarray:
    """The depthwise kernel's int16 weights: groups of 4 output channels (zero-padded), per group every tap
    as w[c0], w[c2], w[c1], w[c3] (SXTB16's halfword order for the input's four channels)."""
    _, fh, fw, out_c = filter_1hwo.shape
    groups = -(-out_c // 4)
    w = np.zeros((fh * fw, groups * 4), np.int16)
    w[:, :out_c] = filter_1hwo.reshape(fh * fw, out_c)
    w = w.reshape(fh * fw, groups, 4)[:, :, [0, 2, 1, 3]]
    return w.transpose(1, 0, 2).reshape(-1)


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


def dot_rows_scratch_bytes(k: int) -> int:
    """mtk_dot_rows_scratch_bytes(): two rows of k values sign-extended to 16 bits, padded to 4."""
    return 4 * (-(-k // 4) * 4)


def _accumulator_bound(filter_rows: np.ndarray, bias: np.ndarray) -> int:
    """Largest |accumulator| any int8 input can produce: |bias| + 128 * sum |w| per output channel."""
    rows = np.abs(filter_rows.astype(np.int64)).sum(axis=1)
    return int((np.abs(bias.astype(np.int64)) + 128 * rows).max())


def _output_quant_fields(out: Tensor, activation: str) -> str:
    scale, zp = _q(out)
    lo, hi = qz.activation_range(activation, scale, zp)
    return f"{{ .output_zero_point = {zp}, .act_min = {lo}, .act_max = {hi} }}"


def lower_conv(graph: Graph, op: Operator, layer: str) -> Step:
    depthwise = op.name == "DEPTHWISE_CONV_2D"
    x, f, out = graph.tensor(op.inputs[0]), _const_filter(graph, op), graph.tensor(op.outputs[0])
    in_h, in_w, in_c = _hwc(x)
    out_h, out_w, out_c = _hwc(out)
    sh, sw = op.options["stride"]
    if depthwise:
        _, fh, fw, fc = f.shape
        if fc != out_c or out_c % in_c:
            raise UserError(f"operator {op.index} {op.name}: filter {f.describe()} does not match "
                            f"{in_c} input and {out_c} output channels")
        mult = out_c // in_c
        sums = f.data.reshape(fh * fw, out_c).astype(np.int64).sum(axis=0)
    else:
        fo, fh, fw, fi = f.shape
        if fi != in_c or fo != out_c:
            raise UserError(f"operator {op.index} {op.name}: grouped convolution (filter {f.describe()}, "
                            f"{in_c} input channels) is not supported")
        mult = 1
        sums = f.data.reshape(out_c, -1).astype(np.int64).sum(axis=1)
    pad_top = _padding(op.options["padding"], in_h, fh, sh, out_h)
    pad_left = _padding(op.options["padding"], in_w, fw, sw, out_w)
    in_scale, in_zp = _q(x)
    out_scale, _ = _q(out)
    multipliers, shifts = qz.per_channel_multipliers(in_scale, f.scale, out_scale, out_c)
    bias = _folded_bias(graph, op, sums, in_zp)
    act = op.options["activation"]
    rows = f.data.reshape(fh * fw, out_c).T if depthwise else f.data.reshape(out_c, -1)
    fshape = "x".join(str(d) for d in f.shape)
    if depthwise:
        filter_field = ("dw_filter", f"{layer}_dw_filter")
        filter_array = ConstArray("dw_filter", "int16_t", depthwise_filter_groups(f.data),
                                  f"1HWO {fshape} as int16, groups of 4 channels, each tap c0 c2 c1 c3")
    else:
        filter_field = ("filter", f"{layer}_filter")
        filter_array = ConstArray("filter", "int8_t", pack_filter_rows(rows),
                                  f"OHWI {fshape}, packed: pairs of rows interleaved in blocks of 4")
    quant_fields, quant_array = channel_quant_table(layer, 4 if depthwise else 2, bias, multipliers, shifts,
                                                    _q(out)[1], _accumulator_bound(rows, bias))
    fields = [
        ("in_h", in_h), ("in_w", in_w), ("in_c", in_c), ("out_h", out_h), ("out_w", out_w), ("out_c", out_c),
        ("filter_h", fh), ("filter_w", fw), ("stride_h", sh), ("stride_w", sw),
        ("pad_top", pad_top), ("pad_left", pad_left), ("depth_multiplier", mult),
        ("input_zero_point", in_zp), ("q", _output_quant_fields(out, act)), filter_field,
    ] + quant_fields
    arrays = [filter_array, quant_array]
    kind = f"{fh}x{fw}" + (f" depth_multiplier {mult}" if depthwise and mult != 1 else "")
    comment = (f"{op.name} {kind} stride {sh}x{sw} {op.options['padding']} {act}: "
               f"{in_h}x{in_w}x{in_c} ({_quant_text(x)}) -> {out_h}x{out_w}x{out_c} ({_quant_text(out)})")
    macs = out_h * out_w * out_c * fh * fw * (1 if depthwise else in_c)
    kernel = "mtk_depthwise_conv2d_s8" if depthwise else "mtk_conv2d_s8"
    # Must equal mtk_conv2d_scratch_bytes() / mtk_depthwise_conv2d_scratch_bytes(): the dot engine's
    # expanded rows plus two im2col rows unless the conv reads pixels in place; for depthwise, filter_h
    # input rows of one group of 4 channels, sign-extended and padded with the zero point.
    pointwise = fh == 1 and fw == 1 and pad_top == 0 and pad_left == 0
    if depthwise:
        width = pad_left + in_w + max((out_w - 1) * sw + fw - pad_left - in_w, 0)
        scratch = 8 * fh * width if mult == 1 and in_c >= 4 and fh <= 16 else 0
    else:
        k = fh * fw * in_c
        scratch = dot_rows_scratch_bytes(k) + (0 if pointwise else 2 * k)
    return Step(op, layer, kernel, "mtk_conv_params", fields, arrays, [x.index], out.index, comment, macs,
                scratch_bytes=scratch)


def lower_fully_connected(graph: Graph, op: Operator, layer: str) -> Step:
    x, f, out = graph.tensor(op.inputs[0]), _const_filter(graph, op), graph.tensor(op.outputs[0])
    if len(f.shape) != 2:
        raise UserError(f"operator {op.index} {op.name}: weights {f.describe()} must be 2-D")
    out_c, in_c = f.shape
    if int(np.prod(x.shape)) != in_c:
        raise UserError(f"operator {op.index} {op.name}: input {x.describe()} has {int(np.prod(x.shape))} values, "
                        f"weights expect {in_c} (batch > 1 is not supported)")
    if op.options.get("weights_format", 0) != 0:
        raise UserError(f"operator {op.index} {op.name}: shuffled weights format is not supported")
    in_scale, in_zp = _q(x)
    out_scale, _ = _q(out)
    multipliers, shifts = qz.per_channel_multipliers(in_scale, f.scale, out_scale, out_c)
    bias = _folded_bias(graph, op, f.data.astype(np.int64).sum(axis=1), in_zp)
    act = op.options["activation"]
    quant_fields, quant_array = channel_quant_table(layer, 2, bias, multipliers, shifts, _q(out)[1],
                                                    _accumulator_bound(f.data, bias))
    fields = [("in_c", in_c), ("out_c", out_c), ("q", _output_quant_fields(out, act)),
              ("filter", f"{layer}_filter")] + quant_fields
    arrays = [ConstArray("filter", "int8_t", pack_filter_rows(f.data), f"{out_c}x{in_c}, packed: pairs of rows "
                         "interleaved in blocks of 4"), quant_array]
    per = "per-channel" if f.scale.size > 1 else "per-tensor"
    comment = (f"FULLY_CONNECTED {per} {act}: {in_c} ({_quant_text(x)}) -> {out_c} ({_quant_text(out)})")
    return Step(op, layer, "mtk_fully_connected_s8", "mtk_fc_params", fields, arrays, [x.index], out.index,
                comment, in_c * out_c)


def lower_mean(graph: Graph, op: Operator, layer: str) -> Step:
    x, axis, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    if axis is None or axis.data is None:
        raise UserError(f"operator {op.index} MEAN: axis must be a constant tensor")
    axes = sorted(int(a) % 4 for a in axis.data.reshape(-1))
    if len(x.shape) != 4 or axes != [1, 2]:
        raise UserError(f"operator {op.index} MEAN over axes {list(axis.data.reshape(-1))} of {x.describe()}: "
                        "the compiled runtime supports the mean over height and width of a 4-D tensor only")
    in_h, in_w, in_c = _hwc(x)
    in_scale, in_zp = _q(x)
    out_scale, out_zp = _q(out)
    multiplier, shift = qz.mean_multiplier(in_scale, out_scale, in_h * in_w)
    fields = [("in_h", in_h), ("in_w", in_w), ("in_c", in_c), ("input_zero_point", in_zp),
              ("output_zero_point", out_zp), ("multiplier", multiplier), ("shift", shift)]
    comment = (f"MEAN over H,W (keep_dims={op.options.get('keep_dims')}): {in_h}x{in_w}x{in_c} "
               f"({_quant_text(x)}) -> {in_c} ({_quant_text(out)})")
    return Step(op, layer, "mtk_mean_hw_s8", "mtk_mean_params", fields, [], [x.index], out.index, comment)


def lower_softmax(graph: Graph, op: Operator, layer: str) -> Step:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    out_scale, out_zp = _q(out)
    if out_zp != -128 or np.float32(out_scale) != np.float32(1.0 / 256):
        raise UserError(f"operator {op.index} SOFTMAX: output {out.describe()} must have scale 1/256 and zero "
                        f"point -128 (has {out_scale:.6g}, {out_zp})")
    depth = x.shape[-1]
    rows = int(np.prod(x.shape)) // depth
    multiplier, left_shift, diff_min = qz.softmax_params(op.options.get("beta", 1.0), _q(x)[0])
    fields = [("rows", rows), ("depth", depth), ("input_multiplier", multiplier),
              ("input_left_shift", left_shift), ("diff_min", diff_min)]
    comment = f"SOFTMAX beta={op.options.get('beta', 1.0):g}: {rows}x{depth} ({_quant_text(x)}) -> ({_quant_text(out)})"
    return Step(op, layer, "mtk_softmax_s8", "mtk_softmax_params", fields, [], [x.index], out.index, comment)


def lower_add(graph: Graph, op: Operator, layer: str) -> Step:
    a, b, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    for t in (a, b):
        if t.is_constant:
            raise UserError(f"operator {op.index} ADD: constant input {t.describe()} is not supported")
    if tuple(a.shape) != tuple(b.shape) or tuple(a.shape) != tuple(out.shape):
        raise UserError(f"operator {op.index} ADD of {a.describe()} and {b.describe()}: broadcasting is not "
                        "supported by the compiled runtime")
    (sa, za), (sb, zb), (so, _) = _q(a), _q(b), _q(out)
    p = qz.add_params(sa, sb, so)
    act = op.options["activation"]
    fields = [("size", int(np.prod(out.shape))), ("input1_offset", -za), ("input2_offset", -zb),
              ("input1_multiplier", p["input1_multiplier"]), ("input2_multiplier", p["input2_multiplier"]),
              ("input1_shift", p["input1_shift"]), ("input2_shift", p["input2_shift"]),
              ("left_shift", p["left_shift"]), ("output_multiplier", p["output_multiplier"]),
              ("output_shift", p["output_shift"]), ("q", _output_quant_fields(out, act))]
    shape = "x".join(str(d) for d in out.shape[1:])
    comment = f"ADD {act}: {shape} ({_quant_text(a)}) + ({_quant_text(b)}) -> ({_quant_text(out)})"
    size = int(np.prod(out.shape))
    # Must equal mtk_add_scratch_bytes(): two 256-entry int32 rescaling tables once they pay for themselves.
    scratch = 2 * 256 * 4 if size >= 512 else 0
    return Step(op, layer, "mtk_add_s8", "mtk_add_params", fields, [], [a.index, b.index], out.index, comment,
                scratch_bytes=scratch)


def lower_pool(graph: Graph, op: Operator, layer: str) -> Step:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    in_h, in_w, c = _hwc(x)
    out_h, out_w, out_c = _hwc(out)
    if (float(x.scale[0]), int(x.zero_point[0])) != (float(out.scale[0]), int(out.zero_point[0])):
        raise UserError(f"operator {op.index} {op.name}: input and output quantization differ, which TFLM "
                        "does not support either")
    fh, fw = op.options["filter"]
    sh, sw = op.options["stride"]
    pad_top = _padding(op.options["padding"], in_h, fh, sh, out_h)
    pad_left = _padding(op.options["padding"], in_w, fw, sw, out_w)
    act = op.options["activation"]
    lo, hi = qz.activation_range(act, *_q(out))
    fields = [("in_h", in_h), ("in_w", in_w), ("c", c), ("out_h", out_h), ("out_w", out_w),
              ("filter_h", fh), ("filter_w", fw), ("stride_h", sh), ("stride_w", sw),
              ("pad_top", pad_top), ("pad_left", pad_left), ("act_min", lo), ("act_max", hi)]
    comment = (f"{op.name} {fh}x{fw} stride {sh}x{sw} {op.options['padding']} {act}: {in_h}x{in_w}x{c} -> "
               f"{out_h}x{out_w}x{out_c} ({_quant_text(out)})")
    kernel = "mtk_avg_pool_s8" if op.name == "AVERAGE_POOL_2D" else "mtk_max_pool_s8"
    return Step(op, layer, kernel, "mtk_pool_params", fields, [], [x.index], out.index, comment)


def lower_pad(graph: Graph, op: Operator, layer: str) -> Step:
    x, paddings, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    if paddings is None or paddings.data is None or len(x.shape) != 4:
        raise UserError(f"operator {op.index} PAD: needs constant paddings and a 4-D input ({x.describe()})")
    pads = paddings.data.reshape(4, 2).astype(int)
    if pads[0].any():
        raise UserError(f"operator {op.index} PAD: padding the batch dimension is not supported")
    in_h, in_w, in_c = _hwc(x)
    value = int(out.zero_point[0])
    fields = [("in_h", in_h), ("in_w", in_w), ("in_c", in_c),
              ("pad_top", pads[1][0]), ("pad_bottom", pads[1][1]), ("pad_left", pads[2][0]),
              ("pad_right", pads[2][1]), ("pad_front", pads[3][0]), ("pad_back", pads[3][1]), ("value", value)]
    comment = f"PAD {pads[1:].tolist()} with {value}: {in_h}x{in_w}x{in_c} -> {'x'.join(map(str, out.shape[1:]))}"
    return Step(op, layer, "mtk_pad_s8", "mtk_pad_params", fields, [], [x.index], out.index, comment)


def lower_quantize(graph: Graph, op: Operator, layer: str) -> Step:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    (si, zi), (so, zo) = _q(x), _q(out)
    m, s = qz.requantize_multiplier(si, so)
    fields = [("size", int(np.prod(out.shape))), ("input_zero_point", zi), ("output_zero_point", zo),
              ("multiplier", m), ("shift", s)]
    comment = f"QUANTIZE int8 -> int8: ({_quant_text(x)}) -> ({_quant_text(out)})"
    return Step(op, layer, "mtk_requantize_s8", "mtk_requantize_params", fields, [], [x.index], out.index,
                comment)


def lower_reshape(graph: Graph, op: Operator, layer: str) -> Step:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if (float(x.scale[0]), int(x.zero_point[0])) != (float(out.scale[0]), int(out.zero_point[0])):
        raise UserError(f"operator {op.index} RESHAPE changes quantization ({x.describe()} -> {out.describe()})")
    comment = f"RESHAPE {list(x.shape)} -> {list(out.shape)}: same memory, no code"
    return Step(op, layer, None, None, [], [], [x.index], out.index, comment, alias_of=x.index)


LOWERINGS = {
    "CONV_2D": lower_conv, "DEPTHWISE_CONV_2D": lower_conv, "FULLY_CONNECTED": lower_fully_connected,
    "MEAN": lower_mean, "SOFTMAX": lower_softmax, "ADD": lower_add, "AVERAGE_POOL_2D": lower_pool,
    "MAX_POOL_2D": lower_pool, "PAD": lower_pad, "QUANTIZE": lower_quantize, "RESHAPE": lower_reshape,
}


def layer_name(graph: Graph, op: Operator, taken: set[str]) -> str:
    """A C identifier from the output tensor's Keras layer name, e.g. 'conv_pw_3' (unique per model)."""
    out = graph.tensor(op.outputs[0])
    first = out.name.split(";")[0]
    parts = [p for p in first.split("/") if p]
    candidate = parts[1] if len(parts) > 2 else (parts[-1] if parts else "")
    candidate = re.sub(r"[^0-9a-zA-Z_]", "_", candidate).strip("_").lower()
    candidate = re.sub(r"_+", "_", candidate)
    if not candidate or candidate.startswith(("statefulpartitionedcall", "serving_default")):
        candidate = op.name.lower()
    if candidate[0].isdigit():
        candidate = f"op{op.index}_" + candidate if candidate else f"op{op.index}"
    candidate = f"l{op.index:02d}_{candidate}"[:48]
    name, n = candidate, 2
    while name in taken:
        name, n = f"{candidate}_{n}", n + 1
    taken.add(name)
    return name


def lower_graph(graph: Graph) -> list[Step]:
    taken: set[str] = set()
    steps = []
    for op in graph.operators:
        steps.append(LOWERINGS[op.name](graph, op, layer_name(graph, op, taken)))
    return steps
