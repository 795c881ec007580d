"""FULLY_CONNECTED: mtk_fully_connected_s8 (firmware/lib/mtk_kernels fully_connected.c), packed filter
pairs through the dot-product engine, one row read in place. Per-tensor weights repeat the one multiplier."""
import numpy as np

from ...errors import UserError
from .. import quantization as qz
from . import OpEntry
from .common import (Call, ConstArray, accumulator_bound, channel_quant_table, check_fused_activation,
                     const_filter, folded_bias, output_quant_fields, pack_filter_rows, quant_text)


def lower(graph, op, layer: str) -> Call:
    x, f, out = graph.tensor(op.inputs[0]), const_filter(graph, op, 2), graph.tensor(op.outputs[0])
    out_c, in_c = f.shape
    if x.size != in_c:
        raise UserError(f"operator {op.index} {op.name}: input {x.describe()} has {x.size} values, "
                        f"weights expect {in_c} (batch > 1 is not supported)")
    if op.options.get("weights_format", 0) != 0:
        raise UserError(f"operator {op.index} {op.name}: shuffled weights format is not supported")
    multipliers, shifts = qz.per_channel_multipliers(x.scale, f.scales, out.scale, out_c)
    bias = folded_bias(graph, op, f.data.astype(np.int64).sum(axis=1), x.zero_point)
    act = op.options["activation"]
    quant_fields, quant_array = channel_quant_table(layer, 2, bias, multipliers, shifts, out.zero_point,
                                                    accumulator_bound(f.data, bias))
    fields = [("in_c", in_c), ("out_c", out_c), ("q", output_quant_fields(out, act)),
              ("filter", f"{layer}_filter")] + quant_fields
    arrays = [ConstArray("filter", "int8_t", pack_filter_rows(f.data), f"{out_c}x{in_c}, packed: pairs of rows "
                         "interleaved in blocks of 4"), quant_array]
    per = "per-channel" if f.scales.size > 1 else "per-tensor"
    comment = f"FULLY_CONNECTED {per} {act}: {in_c} ({quant_text(x)}) -> {out_c} ({quant_text(out)})"
    return Call(fields, arrays, [x.index], out.index, comment)


def macs(graph, op) -> int:
    out_c, in_c = graph.tensor(op.inputs[1]).shape
    return in_c * out_c


ENTRY = OpEntry("FULLY_CONNECTED", lower, kernel="mtk_fully_connected_s8", params_type="mtk_fc_params",
                check=check_fused_activation, macs=macs, inputs=(2, 3), options=("activation",))
