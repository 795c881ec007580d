"""CONV_2D: mtk_conv2d_s8, packed filter pairs through the dot-product engine (firmware/lib/mtk_kernels
conv.c); windows other than 1x1 without padding go through two im2col rows in scratch."""
import numpy as np

from ...errors import UserError
from .. import quantization as qz
from . import OpEntry
from .common import (Call, ConstArray, accumulator_bound, channel_quant_table, check_window_op, const_filter,
                     folded_bias, hwc, output_quant_fields, pack_filter_rows, padding_before, quant_text, window_band,
                     window_rows)


def lower(graph, op, layer: str) -> Call:
    x, f, out = graph.tensor(op.inputs[0]), const_filter(graph, op, 4), graph.tensor(op.outputs[0])
    in_h, in_w, in_c = hwc(x)
    out_h, out_w, out_c = hwc(out)
    sh, sw = op.options["stride"]
    fo, fh, fw, fi = f.shape
    if fi != in_c or fo != out_c:
        raise UserError(f"operator {op.index} {op.name}: grouped convolution (filter {f.describe()}, "
                        f"{in_c} input channels) is not supported")
    rows = f.data.reshape(out_c, -1)
    pad_top = padding_before(op.options["padding"], in_h, fh, sh, out_h)
    pad_left = padding_before(op.options["padding"], in_w, fw, sw, out_w)
    multipliers, shifts = qz.per_channel_multipliers(x.scale, f.scales, out.scale, out_c)
    bias = folded_bias(graph, op, rows.astype(np.int64).sum(axis=1), x.zero_point)
    act = op.options["activation"]
    quant_fields, quant_array = channel_quant_table(layer, 2, bias, multipliers, shifts, out.zero_point,
                                                    accumulator_bound(rows, bias))
    fshape = "x".join(str(d) for d in f.shape)
    fields = [
        ("in_h", in_h), ("in_w", in_w), ("in_c", in_c), ("out_h", out_h), ("out_w", out_w), ("out_c", out_c),
        ("filter_h", fh), ("filter_w", fw), ("stride_h", sh), ("stride_w", sw),
        ("pad_top", pad_top), ("pad_left", pad_left), ("input_zero_point", x.zero_point),
        ("q", output_quant_fields(out, act)), ("filter", f"{layer}_filter"),
    ] + quant_fields
    arrays = [ConstArray("filter", "int8_t", pack_filter_rows(rows),
                         f"OHWI {fshape}, packed: pairs of rows interleaved in blocks of 4"), quant_array]
    comment = (f"{op.name} {fh}x{fw} stride {sh}x{sw} {op.options['padding']} {act}: "
               f"{in_h}x{in_w}x{in_c} ({quant_text(x)}) -> {out_h}x{out_w}x{out_c} ({quant_text(out)})")
    return Call(fields, arrays, [x.index], out.index, comment)


def macs(graph, op) -> int:
    _, fh, fw, in_c = graph.tensor(op.inputs[1]).shape
    _, out_h, out_w, out_c = graph.tensor(op.outputs[0]).shape
    return out_h * out_w * out_c * fh * fw * in_c


ENTRY = OpEntry("CONV_2D", lower, kernel="mtk_conv2d_s8", params_type="mtk_conv_params",
                scratch_function="mtk_conv2d_scratch_bytes", check=check_window_op, macs=macs,
                inputs=(2, 3), options=("padding", "stride", "activation"), rows=window_rows, band_fields=window_band)
