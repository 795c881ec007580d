"""AVERAGE_POOL_2D and MAX_POOL_2D: mtk_avg_pool_s8 / mtk_max_pool_s8 (firmware/lib/mtk_kernels
avg_pool.c, max_pool.c). Input and output share quantization, as TFLM requires."""
from ...errors import UserError
from .. import quantization as qz
from . import OpEntry
from .common import (Call, check_fused_activation, hwc, padding_before, quant_text, same_quantization, window_band,
                     window_rows)


def lower(graph, op, layer: str) -> Call:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    in_h, in_w, c = hwc(x)
    out_h, out_w, out_c = hwc(out)
    if not same_quantization(x, out):
        raise UserError(f"operator {op.index} {op.name}: input and output quantization differ, which TFLM "
                        "does not support either")
    fh, fw = op.options["filter"]
    sh, sw = op.options["stride"]
    pad_top = padding_before(op.options["padding"], in_h, fh, sh, out_h)
    pad_left = padding_before(op.options["padding"], in_w, fw, sw, out_w)
    act = op.options["activation"]
    lo, hi = qz.activation_range(act, out.scale, out.zero_point)
    fields = [("in_h", in_h), ("in_w", in_w), ("c", c), ("out_h", out_h), ("out_w", out_w),
              ("filter_h", fh), ("filter_w", fw), ("stride_h", sh), ("stride_w", sw),
              ("pad_top", pad_top), ("pad_left", pad_left), ("act_min", lo), ("act_max", hi)]
    comment = (f"{op.name} {fh}x{fw} stride {sh}x{sw} {op.options['padding']} {act}: {in_h}x{in_w}x{c} -> "
               f"{out_h}x{out_w}x{out_c} ({quant_text(out)})")
    return Call(fields, [], [x.index], out.index, comment)


_OPTIONS = ("padding", "stride", "filter", "activation")
AVERAGE_ENTRY = OpEntry("AVERAGE_POOL_2D", lower, kernel="mtk_avg_pool_s8", params_type="mtk_pool_params",
                        check=check_fused_activation, options=_OPTIONS, rows=window_rows, band_fields=window_band)
MAX_ENTRY = OpEntry("MAX_POOL_2D", lower, kernel="mtk_max_pool_s8", params_type="mtk_pool_params",
                    check=check_fused_activation, options=_OPTIONS, rows=window_rows, band_fields=window_band)
