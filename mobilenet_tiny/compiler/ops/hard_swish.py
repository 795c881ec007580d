"""HARD_SWISH: mtk_hard_swish_s8 (firmware/lib/mtk_kernels hard_swish.c), TFLM's 16-bit fixed-point
reference; its multipliers as TFLM's HardSwishPrepare computes them (quantization.hard_swish_params)."""
from .. import quantization as qz
from . import OpEntry
from .common import Call, quant_text


def lower(graph, op, layer: str) -> Call:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    p = qz.hard_swish_params(x.scale, out.scale)
    fields = [("size", out.size), ("input_zero_point", x.zero_point), ("output_zero_point", out.zero_point),
              ("output_multiplier", p["output_multiplier"]),
              ("output_multiplier_exponent", p["output_multiplier_exponent"]),
              ("reluish_multiplier", p["reluish_multiplier"]),
              ("reluish_multiplier_exponent", p["reluish_multiplier_exponent"])]
    comment = f"HARD_SWISH: {'x'.join(map(str, out.shape[1:]))} ({quant_text(x)}) -> ({quant_text(out)})"
    return Call(fields, [], [x.index], out.index, comment)


ENTRY = OpEntry("HARD_SWISH", lower, kernel="mtk_hard_swish_s8", params_type="mtk_hard_swish_params")
