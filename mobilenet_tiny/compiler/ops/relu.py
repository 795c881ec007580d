"""RELU as an operator of its own (not fused): mtk_relu_s8 (firmware/lib/mtk_kernels relu.c), TFLM's
ReluQuantized, which also requantizes to the output's scale."""
from .. import quantization as qz
from . import OpEntry
from .common import Call, quant_text


def lower(graph, op, layer: str) -> Call:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    m, s = qz.relu_multiplier(x.scale, out.scale)
    act_min, _ = qz.activation_range("RELU", out.scale, out.zero_point)
    fields = [("size", out.size), ("input_zero_point", x.zero_point), ("output_zero_point", out.zero_point),
              ("multiplier", m), ("shift", s), ("act_min", act_min)]
    comment = f"RELU: {'x'.join(map(str, out.shape[1:]))} ({quant_text(x)}) -> ({quant_text(out)})"
    return Call(fields, [], [x.index], out.index, comment)


ENTRY = OpEntry("RELU", lower, kernel="mtk_relu_s8", params_type="mtk_relu_params")
