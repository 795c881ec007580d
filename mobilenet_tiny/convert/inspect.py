"""What a .tflite holds that the C array and the firmware need: ops, input/output tensors, int8-ness.

Read with the `tflite` package's generated flatbuffer schema, not a parser of our own."""
from dataclasses import dataclass

import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

from ..errors import UserError

_TYPE_NAMES = {v: k.lower() for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}

# MicroMutableOpResolver's method for an op is Add + the op's name in CamelCase (CONV_2D → AddConv2D,
# DEPTHWISE_CONV_2D → AddDepthwiseConv2D); these few do not follow the rule. Whether TFLM has the op at all
# is decided by loading the model in the real TFLM interpreter (interpreters.measure_tflm_arena).
_RESOLVER_EXCEPTIONS = {"PADV2": "AddPadV2", "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
                        "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
                        "SVDF": "AddSvdf", "LSTM": "AddLstm"}


def tflm_resolver_method(op: str) -> str:
    return _RESOLVER_EXCEPTIONS.get(op) or "Add" + "".join(
        part if part[0].isdigit() else part.capitalize() for part in op.split("_"))


@dataclass(frozen=True)
class TensorSummary:
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int


@dataclass(frozen=True)
class TfliteSummary:
    ops: tuple[str, ...]  # distinct builtin op names in first-use order
    op_count: int  # operators in the graph
    input: TensorSummary
    output: TensorSummary
    size_bytes: int

    @property
    def is_full_int8(self) -> bool:
        return self.input.dtype == "int8" and self.output.dtype == "int8"

    @property
    def tflm_resolver_methods(self) -> list[str]:
        return [tflm_resolver_method(op) for op in self.ops]


def _tensor(subgraph, index: int) -> TensorSummary:
    t = subgraph.Tensors(index)
    q = t.Quantization()
    scale = q.ScaleAsNumpy() if q is not None and q.ScaleLength() else np.array([0.0])
    zp = q.ZeroPointAsNumpy() if q is not None and q.ZeroPointLength() else np.array([0])
    return TensorSummary(t.Name().decode(errors="replace"), tuple(int(d) for d in t.ShapeAsNumpy()),
                         _TYPE_NAMES.get(t.Type(), str(t.Type())), float(scale[0]), int(zp[0]))


def summarize_tflite(data: bytes, source: str = "model") -> TfliteSummary:
    """Summarize a .tflite; a file that is not one raises UserError naming `source`."""
    if len(data) < 8 or not tflite.Model.ModelBufferHasIdentifier(data, 0):
        raise UserError(f"{source}: not a TFLite model (no TFL3 flatbuffer identifier)")
    try:
        model = tflite.Model.GetRootAs(data, 0)
        if model.SubgraphsLength() != 1:
            raise UserError(f"{source}: {model.SubgraphsLength()} subgraphs; only single-subgraph models are supported")
        sg = model.Subgraphs(0)
        if sg.InputsLength() != 1 or sg.OutputsLength() != 1:
            raise UserError(f"{source}: {sg.InputsLength()} inputs / {sg.OutputsLength()} outputs; "
                            "a classifier with one input and one output is expected")
        ops = []
        for i in range(sg.OperatorsLength()):
            code = model.OperatorCodes(sg.Operators(i).OpcodeIndex())
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            name = BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")
            if name == "CUSTOM":
                name = f"CUSTOM:{code.CustomCode().decode(errors='replace')}"
            if name not in ops:
                ops.append(name)
        return TfliteSummary(tuple(ops), sg.OperatorsLength(), _tensor(sg, sg.Inputs(0)), _tensor(sg, sg.Outputs(0)),
                             len(data))
    except UserError:
        raise
    except Exception as e:  # a truncated or corrupt flatbuffer fails deep inside the generated accessors
        raise UserError(f"{source}: corrupt TFLite model ({type(e).__name__})") from None


def check_for_microcontroller(summary: TfliteSummary, source: str = "model") -> None:
    """The C array / firmware path needs a full-int8 model of builtin ops."""
    if not summary.is_full_int8:
        raise UserError(f"{source}: input is {summary.input.dtype} and output {summary.output.dtype}; "
                        "the microcontroller path needs a full-int8 model (run `mobilenet-tiny convert` on the "
                        "Keras model)")
    for op in summary.ops:
        if op.startswith("CUSTOM:"):
            raise UserError(f"{source}: custom op {op[7:]} is not supported: only builtin ops run on TFLM here")


def execution_order_outputs(data: bytes) -> list[int]:
    """Indices of the tensors the graph computes, in execution order (operator outputs)."""
    sg = tflite.Model.GetRootAs(data, 0).Subgraphs(0)
    return [int(t) for i in range(sg.OperatorsLength()) for t in sg.Operators(i).OutputsAsNumpy()]
