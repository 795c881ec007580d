"""QUANTIZE int8 -> int8 (a requantization): mtk_requantize_s8 (firmware/lib/mtk_kernels requantize.c)."""
from .. import quantization as qz
from . import OpEntry
from .common import Call, elementwise_band, elementwise_rows, quant_text


def lower(graph, op, layer: str) -> Call:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    m, s = qz.requantize_multiplier(x.scale, out.scale)
    fields = [("size", out.size), ("input_zero_point", x.zero_point), ("output_zero_point", out.zero_point),
              ("multiplier", m), ("shift", s)]
    comment = f"QUANTIZE int8 -> int8: ({quant_text(x)}) -> ({quant_text(out)})"
    return Call(fields, [], [x.index], out.index, comment)


ENTRY = OpEntry("QUANTIZE", lower, kernel="mtk_requantize_s8", params_type="mtk_requantize_params",
                rows=elementwise_rows, band_fields=elementwise_band)
