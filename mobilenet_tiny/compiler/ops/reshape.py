"""RESHAPE: no code, the output is an alias of the input's memory (the planner keeps one buffer)."""
from ...errors import UserError
from . import OpEntry
from .common import Call, same_quantization


def lower(graph, op, layer: str) -> Call:
    x, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if not same_quantization(x, out):
        raise UserError(f"operator {op.index} RESHAPE changes quantization ({x.describe()} -> {out.describe()})")
    comment = f"RESHAPE {list(x.shape)} -> {list(out.shape)}: same memory, no code"
    return Call([], [], [x.index], out.index, comment, alias_of=x.index)


ENTRY = OpEntry("RESHAPE", lower, inputs=(1, 2), data_inputs=1)
