"""ADD of two same-shaped tensors: mtk_add_s8 (firmware/lib/mtk_kernels add.c), with per-input rescaling
tables in scratch once the tensor is large enough for them to pay."""
from ...errors import UserError
from .. import quantization as qz
from . import OpEntry
from .common import Call, check_fused_activation, elementwise_band, elementwise_rows, output_quant_fields, quant_text


def lower(graph, op, layer: str) -> Call:
    a, b, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    for t in (a, b):
        if t.is_constant:
            raise UserError(f"operator {op.index} ADD: constant input {t.describe()} is not supported")
    if tuple(a.shape) != tuple(b.shape) or tuple(a.shape) != tuple(out.shape):
        raise UserError(f"operator {op.index} ADD of {a.describe()} and {b.describe()}: broadcasting is not "
                        "supported by the compiled runtime")
    p = qz.add_params(a.scale, b.scale, out.scale)
    act = op.options["activation"]
    fields = [("size", out.size), ("input1_offset", -a.zero_point), ("input2_offset", -b.zero_point),
              ("input1_multiplier", p["input1_multiplier"]), ("input2_multiplier", p["input2_multiplier"]),
              ("input1_shift", p["input1_shift"]), ("input2_shift", p["input2_shift"]),
              ("left_shift", p["left_shift"]), ("output_multiplier", p["output_multiplier"]),
              ("output_shift", p["output_shift"]), ("q", output_quant_fields(out, act))]
    shape = "x".join(str(d) for d in out.shape[1:])
    comment = f"ADD {act}: {shape} ({quant_text(a)}) + ({quant_text(b)}) -> ({quant_text(out)})"
    return Call(fields, [], [a.index, b.index], out.index, comment)


ENTRY = OpEntry("ADD", lower, kernel="mtk_add_s8", params_type="mtk_add_params",
                scratch_function="mtk_add_scratch_bytes", check=check_fused_activation, inputs=(2, 2),
                options=("activation",), in_place_function="mtk_add_in_place_ok", in_place_inputs=(0, 1),
                rows=elementwise_rows, band_fields=elementwise_band, band_prepare="mtk_add_prepare_s8",
                band_kernel="mtk_add_prepared_s8")
