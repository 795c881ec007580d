"""MEAN over height and width: mtk_mean_hw_s8 (firmware/lib/mtk_kernels mean.c)."""
from ...errors import UserError
from .. import quantization as qz
from . import OpEntry
from .common import Call, hwc, quant_text


def lower(graph, op, layer: str) -> Call:
    x, axis, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    if axis is None or axis.data is None:
        raise UserError(f"operator {op.index} MEAN: axis must be a constant tensor")
    axes = sorted(int(a) % 4 for a in axis.data.reshape(-1))
    if len(x.shape) != 4 or axes != [1, 2]:
        raise UserError(f"operator {op.index} MEAN over axes {list(axis.data.reshape(-1))} of {x.describe()}: "
                        "the compiled runtime supports the mean over height and width of a 4-D tensor only")
    in_h, in_w, in_c = hwc(x)
    multiplier, shift = qz.mean_multiplier(x.scale, out.scale, in_h * in_w)
    fields = [("in_h", in_h), ("in_w", in_w), ("in_c", in_c), ("input_zero_point", x.zero_point),
              ("output_zero_point", out.zero_point), ("multiplier", multiplier), ("shift", shift)]
    comment = (f"MEAN over H,W (keep_dims={op.options.get('keep_dims')}): {in_h}x{in_w}x{in_c} "
               f"({quant_text(x)}) -> {in_c} ({quant_text(out)})")
    return Call(fields, [], [x.index], out.index, comment)


ENTRY = OpEntry("MEAN", lower, kernel="mtk_mean_hw_s8", params_type="mtk_mean_params", inputs=(2, 2))
