"""PAD with the output's zero point: mtk_pad_s8 (firmware/lib/mtk_kernels pad.c)."""
from ...errors import UserError
from . import OpEntry
from .common import Call, hwc


def lower(graph, op, layer: str) -> Call:
    x, paddings, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    if paddings is None or paddings.data is None or len(x.shape) != 4:
        raise UserError(f"operator {op.index} PAD: needs constant paddings and a 4-D input ({x.describe()})")
    pads = paddings.data.reshape(4, 2).astype(int)
    if pads[0].any():
        raise UserError(f"operator {op.index} PAD: padding the batch dimension is not supported")
    in_h, in_w, in_c = hwc(x)
    value = out.zero_point
    fields = [("in_h", in_h), ("in_w", in_w), ("in_c", in_c),
              ("pad_top", pads[1][0]), ("pad_bottom", pads[1][1]), ("pad_left", pads[2][0]),
              ("pad_right", pads[2][1]), ("pad_front", pads[3][0]), ("pad_back", pads[3][1]), ("value", value)]
    comment = f"PAD {pads[1:].tolist()} with {value}: {in_h}x{in_w}x{in_c} -> {'x'.join(map(str, out.shape[1:]))}"
    return Call(fields, [], [x.index], out.index, comment)


ENTRY = OpEntry("PAD", lower, kernel="mtk_pad_s8", params_type="mtk_pad_params", inputs=(2, 2))
