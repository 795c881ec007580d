"""Read an int8 .tflite flatbuffer (through the `tflite` package's generated schema) into a plain graph.

The compiler downstream sees only Python values: tensors with shape, type, quantization and constant data,
and operators with their builtin name, tensor indices and options as a dict. Everything the compiled runtime
cannot execute is rejected here with a one-line UserError naming the operator and tensor.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

from ..errors import UserError

_TYPE_NAMES = {v: k.lower() for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
_NUMPY_TYPES = {"int8": np.int8, "int32": np.int32, "uint8": np.uint8, "int16": np.int16, "int64": np.int64,
                "float32": np.float32}
_PADDING = {tflite.Padding.SAME: "SAME", tflite.Padding.VALID: "VALID"}
_ACTIVATIONS = {v: k for k, v in vars(tflite.ActivationFunctionType).items() if not k.startswith("_")}

# Operators the compiled runtime implements (RESHAPE is an alias, no code).
SUPPORTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MEAN", "SOFTMAX", "RESHAPE", "ADD",
                 "AVERAGE_POOL_2D", "MAX_POOL_2D", "PAD", "QUANTIZE")


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scale: np.ndarray | None  # float32, one per channel or one for the tensor
    zero_point: np.ndarray | None
    quantized_dimension: int
    data: np.ndarray | None  # constant tensors only, already reshaped

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(_NUMPY_TYPES.get(self.dtype, np.int8)).itemsize

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    def describe(self) -> str:
        return f"'{self.name}' {self.dtype}{list(self.shape)}"


@dataclass
class Operator:
    index: int
    name: str  # builtin name, e.g. CONV_2D
    inputs: list[int]  # -1 for an omitted optional input
    outputs: list[int]
    options: dict = field(default_factory=dict)


@dataclass
class Graph:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]
    description: str = ""

    def tensor(self, index: int) -> Tensor | None:
        return None if index < 0 else self.tensors[index]


def read_model(tflite_bytes: bytes) -> Graph:
    """Parse and validate a .tflite model; UserError for anything the compiled runtime cannot run."""
    try:
        if len(tflite_bytes) < 8 or not tflite.Model.ModelBufferHasIdentifier(tflite_bytes, 0):
            raise UserError("not a TFLite model (missing the 'TFL3' flatbuffer identifier)")
        model = tflite.Model.GetRootAs(tflite_bytes, 0)
        graph = _read_graph(model, tflite_bytes)
    except UserError:
        raise
    except Exception as exc:  # a truncated or corrupt flatbuffer fails somewhere inside the generated reader
        raise UserError(f"corrupt TFLite model: {type(exc).__name__}: {exc}") from None
    _drop_shape_computations(graph)
    _validate(graph)
    return graph


def _drop_shape_computations(graph: Graph) -> None:
    """Drop operators whose results only feed RESHAPE's shape input (keras' Reshape layer exports a
    SHAPE → STRIDED_SLICE → PACK chain for a dynamic batch). Shapes are static in the flatbuffer, so the
    compiled code never needs them; every operator on the data path is kept and validated."""
    needed = set(graph.outputs)
    kept = []
    for op in reversed(graph.operators):
        if not needed.intersection(op.outputs):
            continue
        kept.append(op)
        data_inputs = op.inputs[:1] if op.name == "RESHAPE" else op.inputs
        needed.update(t for t in data_inputs if t >= 0)
    graph.operators = kept[::-1]


def _read_graph(model, raw: bytes) -> Graph:
    if model.SubgraphsLength() != 1:
        raise UserError(f"model has {model.SubgraphsLength()} subgraphs; the compiled runtime supports exactly 1")
    sub = model.Subgraphs(0)
    tensors = [_read_tensor(model, sub.Tensors(i), i, raw) for i in range(sub.TensorsLength())]
    operators = []
    for i in range(sub.OperatorsLength()):
        op = sub.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == tflite.BuiltinOperator.CUSTOM:
            name = "CUSTOM(" + (code.CustomCode() or b"?").decode(errors="replace") + ")"
        else:
            name = BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")
        operators.append(Operator(i, name, [int(t) for t in op.InputsAsNumpy()] if op.InputsLength() else [],
                                  [int(t) for t in op.OutputsAsNumpy()] if op.OutputsLength() else [],
                                  _read_options(name, op)))
    description = (model.Description() or b"").decode(errors="replace")
    return Graph(tensors, operators, [int(t) for t in sub.InputsAsNumpy()], [int(t) for t in sub.OutputsAsNumpy()],
                 description)


def _read_tensor(model, t, index: int, raw: bytes) -> Tensor:
    dtype = _TYPE_NAMES.get(t.Type(), f"type{t.Type()}")
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    q = t.Quantization()
    scale = zero_point = None
    qdim = 0
    if q is not None and q.ScaleLength():
        scale = q.ScaleAsNumpy().astype(np.float32)
        zero_point = q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength() else np.zeros(len(scale), np.int64)
        qdim = q.QuantizedDimension()
    data = None
    buffer = model.Buffers(t.Buffer())
    if buffer is not None:
        payload = None
        if buffer.DataLength():
            payload = buffer.DataAsNumpy().tobytes()
        elif buffer.Offset() > 1:  # large models keep buffers after the flatbuffer
            payload = raw[buffer.Offset(): buffer.Offset() + buffer.Size()]
        if payload is not None and dtype in _NUMPY_TYPES:
            data = np.frombuffer(payload, dtype=_NUMPY_TYPES[dtype]).copy()
            if data.size == int(np.prod(shape, dtype=np.int64)):
                data = data.reshape(shape)
    name = (t.Name() or b"").decode(errors="replace")
    return Tensor(index, name, shape, dtype, scale, zero_point, qdim, data)


def _read_options(name: str, op) -> dict:
    table = op.BuiltinOptions()
    if table is None:
        return {}

    def load(cls):
        opts = cls()
        opts.Init(table.Bytes, table.Pos)
        return opts

    if name == "CONV_2D":
        o = load(tflite.Conv2DOptions)
        return dict(padding=_PADDING.get(o.Padding(), o.Padding()), stride=(o.StrideH(), o.StrideW()),
                    dilation=(o.DilationHFactor(), o.DilationWFactor()),
                    activation=_ACTIVATIONS.get(o.FusedActivationFunction(), o.FusedActivationFunction()))
    if name == "DEPTHWISE_CONV_2D":
        o = load(tflite.DepthwiseConv2DOptions)
        return dict(padding=_PADDING.get(o.Padding(), o.Padding()), stride=(o.StrideH(), o.StrideW()),
                    dilation=(o.DilationHFactor(), o.DilationWFactor()), depth_multiplier=o.DepthMultiplier(),
                    activation=_ACTIVATIONS.get(o.FusedActivationFunction(), o.FusedActivationFunction()))
    if name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        o = load(tflite.Pool2DOptions)
        return dict(padding=_PADDING.get(o.Padding(), o.Padding()), stride=(o.StrideH(), o.StrideW()),
                    filter=(o.FilterHeight(), o.FilterWidth()),
                    activation=_ACTIVATIONS.get(o.FusedActivationFunction(), o.FusedActivationFunction()))
    if name == "FULLY_CONNECTED":
        o = load(tflite.FullyConnectedOptions)
        return dict(activation=_ACTIVATIONS.get(o.FusedActivationFunction(), o.FusedActivationFunction()),
                    weights_format=o.WeightsFormat(), keep_num_dims=bool(o.KeepNumDims()))
    if name == "ADD":
        o = load(tflite.AddOptions)
        return dict(activation=_ACTIVATIONS.get(o.FusedActivationFunction(), o.FusedActivationFunction()))
    if name == "SOFTMAX":
        return dict(beta=float(np.float32(load(tflite.SoftmaxOptions).Beta())))
    if name == "MEAN":
        return dict(keep_dims=bool(load(tflite.ReducerOptions).KeepDims()))
    return {}


def _validate(graph: Graph) -> None:
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise UserError(f"model has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; "
                        "the compiled runtime supports one of each")
    for op in graph.operators:
        if op.name not in SUPPORTED_OPS:
            out = graph.tensor(op.outputs[0]) if op.outputs else None
            where = f" (output tensor {out.describe()})" if out else ""
            raise UserError(f"operator {op.index} {op.name}{where} is not supported by the compiled runtime; "
                            f"supported: {', '.join(SUPPORTED_OPS)}")
        data_inputs = op.inputs[:1] if op.name == "RESHAPE" else op.inputs  # the shape operand is unused
        for role, indices in (("input", data_inputs), ("output", op.outputs)):
            for i in indices:
                t = graph.tensor(i)
                if t is None or t.is_constant:
                    continue
                if t.dtype != "int8":
                    raise UserError(f"operator {op.index} {op.name}: {role} tensor {t.describe()} is {t.dtype}; "
                                    "the compiled runtime needs int8 activations (full-integer quantization)")
                if t.scale is None:
                    raise UserError(f"operator {op.index} {op.name}: {role} tensor {t.describe()} has no "
                                    "quantization parameters")
                if t.shape and t.shape[0] != 1:
                    raise UserError(f"operator {op.index} {op.name}: {role} tensor {t.describe()} has batch "
                                    f"{t.shape[0]}; the compiled runtime runs batch 1")
        dilation = op.options.get("dilation", (1, 1))
        if tuple(dilation) != (1, 1):
            raise UserError(f"operator {op.index} {op.name} (output tensor {graph.tensor(op.outputs[0]).describe()})"
                            f" uses dilation {tuple(dilation)}; the compiled runtime supports dilation 1 only")
        act = op.options.get("activation", "NONE")
        if act not in ("NONE", "RELU", "RELU6", "RELU_N1_TO_1"):
            raise UserError(f"operator {op.index} {op.name} (output tensor {graph.tensor(op.outputs[0]).describe()})"
                            f" has fused activation {act}, which the compiled runtime does not support")
