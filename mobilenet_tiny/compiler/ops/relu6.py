"""RELU6 as an operator of its own (not fused): mtk_relu6_s8 (firmware/lib/mtk_kernels relu6.c), TFLM's
Relu6Quantized, which clamps in the input's quantization and leaves the output's unread (unlike RELU)."""
import numpy as np

from . import OpEntry
from .common import Call, quant_text


def quantized_six(scale: float, zero_point: int) -> int:
    """6.0 in the input's quantization as TFLM's FloatToQuantizedType forms it: round(6.0f / scale) in
    float32, half away from zero, plus the zero point, saturated to int8."""
    q = float(np.float32(6.0) / np.float32(scale))
    return max(-128, min(127, int(np.floor(q + 0.5)) + zero_point))


def lower(graph, op, layer: str) -> Call:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    fields = [("size", out.size), ("zero", x.zero_point), ("six", quantized_six(x.scale, x.zero_point))]
    comment = f"RELU6: {'x'.join(map(str, out.shape[1:]))} ({quant_text(x)}), clamped to [0, 6] in its own scale"
    return Call(fields, [], [x.index], out.index, comment)


ENTRY = OpEntry("RELU6", lower, kernel="mtk_relu6_s8", params_type="mtk_relu6_params")
