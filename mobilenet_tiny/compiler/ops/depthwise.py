"""DEPTHWISE_CONV_2D: mtk_depthwise_conv2d_s8 (firmware/lib/mtk_kernels depthwise.c), int16 weights in
groups of 4 channels; on the DSP path a group's input rows are sign-extended once into scratch."""
import numpy as np

from ...errors import UserError
from .. import quantization as qz
from . import OpEntry
from .common import (Call, ConstArray, accumulator_bound, channel_quant_table, check_window_op, const_filter,
                     folded_bias, hwc, output_quant_fields, padding_before, quant_text, window_band, window_rows)


def filter_groups(filter_1hwo: np.ndarray) -> np.ndarray:
    """The kernel's int16 weights: groups of 4 output channels (zero-padded), per group every tap as
    w[c0], w[c2], w[c1], w[c3] (SXTB16's halfword order for the input's four channels)."""
    _, fh, fw, out_c = filter_1hwo.shape
    groups = -(-out_c // 4)
    w = np.zeros((fh * fw, groups * 4), np.int16)
    w[:, :out_c] = filter_1hwo.reshape(fh * fw, out_c)
    w = w.reshape(fh * fw, groups, 4)[:, :, [0, 2, 1, 3]]
    return w.transpose(1, 0, 2).reshape(-1)


def lower(graph, op, layer: str) -> Call:
    x, f, out = graph.tensor(op.inputs[0]), const_filter(graph, op, 4), graph.tensor(op.outputs[0])
    in_h, in_w, in_c = hwc(x)
    out_h, out_w, out_c = hwc(out)
    sh, sw = op.options["stride"]
    _, fh, fw, fc = f.shape
    if fc != out_c or out_c % in_c:
        raise UserError(f"operator {op.index} {op.name}: filter {f.describe()} does not match "
                        f"{in_c} input and {out_c} output channels")
    rows = f.data.reshape(fh * fw, out_c).T
    pad_top = padding_before(op.options["padding"], in_h, fh, sh, out_h)
    pad_left = padding_before(op.options["padding"], in_w, fw, sw, out_w)
    multipliers, shifts = qz.per_channel_multipliers(x.scale, f.scales, out.scale, out_c)
    bias = folded_bias(graph, op, rows.astype(np.int64).sum(axis=1), x.zero_point)
    act = op.options["activation"]
    mult = out_c // in_c
    quant_fields, quant_array = channel_quant_table(layer, 4, bias, multipliers, shifts, out.zero_point,
                                                    accumulator_bound(rows, bias))
    fshape = "x".join(str(d) for d in f.shape)
    fields = [
        ("in_h", in_h), ("in_w", in_w), ("in_c", in_c), ("out_h", out_h), ("out_w", out_w), ("out_c", out_c),
        ("filter_h", fh), ("filter_w", fw), ("stride_h", sh), ("stride_w", sw),
        ("pad_top", pad_top), ("pad_left", pad_left), ("depth_multiplier", mult),
        ("input_zero_point", x.zero_point), ("q", output_quant_fields(out, act)), ("filter", f"{layer}_filter"),
    ] + quant_fields
    arrays = [ConstArray("filter", "int16_t", filter_groups(f.data),
                         f"1HWO {fshape} as int16, groups of 4 channels, each tap c0 c2 c1 c3"), quant_array]
    kind = f"{fh}x{fw}" + (f" depth_multiplier {mult}" if mult != 1 else "")
    comment = (f"{op.name} {kind} stride {sh}x{sw} {op.options['padding']} {act}: "
               f"{in_h}x{in_w}x{in_c} ({quant_text(x)}) -> {out_h}x{out_w}x{out_c} ({quant_text(out)})")
    return Call(fields, arrays, [x.index], out.index, comment)


def macs(graph, op) -> int:
    _, fh, fw, _ = graph.tensor(op.inputs[1]).shape
    _, out_h, out_w, out_c = graph.tensor(op.outputs[0]).shape
    return out_h * out_w * out_c * fh * fw


ENTRY = OpEntry("DEPTHWISE_CONV_2D", lower, kernel="mtk_depthwise_conv2d_s8", params_type="mtk_depthwise_params",
                scratch_function="mtk_depthwise_conv2d_scratch_bytes", check=check_window_op, macs=macs,
                inputs=(2, 3), options=("padding", "stride", "activation"),
                in_place_function="mtk_depthwise_conv2d_in_place_ok", rows=window_rows, band_fields=window_band,
                ring_fields=("in_ring", "in_ring_first"))
