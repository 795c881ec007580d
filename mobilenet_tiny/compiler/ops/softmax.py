"""SOFTMAX over the last dimension: mtk_softmax_s8 (firmware/lib/mtk_kernels softmax.c)."""
import numpy as np

from ...errors import UserError
from .. import quantization as qz
from . import OpEntry
from .common import Call, quant_text


def lower(graph, op, layer: str) -> Call:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if out.zero_point != -128 or np.float32(out.scale) != np.float32(1.0 / 256):
        raise UserError(f"operator {op.index} SOFTMAX: output {out.describe()} must have scale 1/256 and zero "
                        f"point -128 (has {out.scale:.6g}, {out.zero_point})")
    depth = x.shape[-1]
    rows = x.size // depth
    beta = op.options.get("beta", 1.0)
    multiplier, left_shift, diff_min = qz.softmax_params(beta, x.scale)
    fields = [("rows", rows), ("depth", depth), ("input_multiplier", multiplier),
              ("input_left_shift", left_shift), ("diff_min", diff_min)]
    comment = f"SOFTMAX beta={beta:g}: {rows}x{depth} ({quant_text(x)}) -> ({quant_text(out)})"
    return Call(fields, [], [x.index], out.index, comment)


ENTRY = OpEntry("SOFTMAX", lower, kernel="mtk_softmax_s8", params_type="mtk_softmax_params")
