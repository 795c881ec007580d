"""One .tflite, read once: every fact the other rooms need about a model, in one record.

    model = load_model_facts("runs/x/model.tflite")   # or read_model_facts(data, source="model.tflite")
    model.input_shape, model.output_size, model.input_scale, model.sha256, model.ops, model.class_names()

The file is read with the `tflite` package's generated flatbuffer schema: every tensor (shape, type,
quantization, constant data), every operator (builtin name, tensor indices, options) and the class names
stored beside it. Reading is also the one validation of the file every command shares: a file that is not
a TFLite model, or is truncated or corrupt, raises one UserError naming it, before any runtime sees it.
What TFLM accepts is still decided by TFLM (interpreters.TflmInterpreter), what the compiled runtime
accepts by the compiler's op table.
"""
from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

from .errors import UserError

TYPE_NAMES = {v: k.lower() for k, v in vars(tflite.TensorType).items() if not k.startswith("_")}
NUMPY_TYPES = {"int8": np.int8, "int32": np.int32, "uint8": np.uint8, "int16": np.int16, "int64": np.int64,
               "float32": np.float32}
_PADDING = {tflite.Padding.SAME: "SAME", tflite.Padding.VALID: "VALID"}
_ACTIVATIONS = {v: k for k, v in vars(tflite.ActivationFunctionType).items() if not k.startswith("_")}
LABEL_FILES = ("labels.json", "labels.txt", "config.json", "report.json")
MAX_DEFAULT_LABELS = 1 << 20


@dataclass(frozen=True)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    scales: np.ndarray | None  # float32: one per channel, or one for the tensor; None when not quantized
    zero_points: np.ndarray | None
    quantized_dimension: int
    data: np.ndarray | None  # constant tensors only, reshaped to `shape` when the sizes agree

    @property
    def scale(self) -> float:
        """The tensor's scale (the first channel's for per-channel weights); 0.0 when not quantized."""
        return float(self.scales[0]) if self.scales is not None else 0.0

    @property
    def zero_point(self) -> int:
        return int(self.zero_points[0]) if self.zero_points is not None else 0

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(NUMPY_TYPES.get(self.dtype, np.int8)).itemsize

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    def describe(self) -> str:
        return f"'{self.name}' {self.dtype}{list(self.shape)}"


@dataclass(frozen=True)
class Operator:
    index: int
    name: str  # builtin name, e.g. CONV_2D; CUSTOM(name) for custom operators
    inputs: tuple[int, ...]  # -1 for an omitted optional input
    outputs: tuple[int, ...]
    options: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class ModelFacts:
    data: bytes
    source: str  # how messages name the model: its path, or "model"
    sha256: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    description: str = ""
    labels: tuple[str, ...] | None = None  # class names stored beside the model file, if any

    def tensor(self, index: int) -> Tensor | None:
        return None if index < 0 else self.tensors[index]

    @property
    def input(self) -> Tensor:
        return self.tensors[self.inputs[0]]

    @property
    def output(self) -> Tensor:
        return self.tensors[self.outputs[0]]

    @property
    def ops(self) -> tuple[str, ...]:
        """Distinct operator names in first-use order."""
        return tuple(dict.fromkeys(op.name for op in self.operators))

    @property
    def op_count(self) -> int:
        return len(self.operators)

    @property
    def size_bytes(self) -> int:
        return len(self.data)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """H, W, C of an NHWC input; a flat input of N values is 1 x 1 x N."""
        return tuple(int(d) for d in (1, 1, *self.input.shape[1:])[-3:])

    @property
    def input_bytes(self) -> int:
        return self.input.size

    @property
    def output_size(self) -> int:
        return self.output.size

    @property
    def input_scale(self) -> float:
        return self.input.scale

    @property
    def input_zero_point(self) -> int:
        return self.input.zero_point

    @property
    def output_scale(self) -> float:
        return self.output.scale

    @property
    def output_zero_point(self) -> int:
        return self.output.zero_point

    @property
    def is_full_int8(self) -> bool:
        return self.input.dtype == "int8" and self.output.dtype == "int8"

    def class_names(self, labels=None) -> list[str]:
        """`labels` if given, else the names stored beside the model, else class_0, class_1, ...; there
        must be one per output."""
        if labels is None and self.labels is None and self.output_size > MAX_DEFAULT_LABELS:
            raise UserError(f"{self.source}: {self.output_size:,} outputs, too many to name class_0, class_1, ... "
                            "(a corrupt model?)")
        names = [str(x) for x in (labels if labels is not None else self.labels or
                                  [f"class_{i}" for i in range(self.output_size)])]
        if len(names) != self.output_size:
            raise UserError(f"{len(names)} labels for a model with {self.output_size} outputs")
        return names

    def with_labels(self, labels) -> "ModelFacts":
        return replace(self, labels=tuple(self.class_names(labels)))


def read_model_facts(data: bytes, source: str = "model", labels=None) -> ModelFacts:
    """Read and validate a .tflite; a file that is not one, or is corrupt, raises UserError naming `source`."""
    data = bytes(data)
    if len(data) < 8 or not tflite.Model.ModelBufferHasIdentifier(data, 0):
        raise UserError(f"{source}: not a TFLite model (no TFL3 flatbuffer identifier)")
    try:
        model = tflite.Model.GetRootAs(data, 0)
        if model.SubgraphsLength() != 1:
            raise UserError(f"{source}: {model.SubgraphsLength()} subgraphs; only single-subgraph models are "
                            "supported")
        sub = model.Subgraphs(0)
        tensors = tuple(_read_tensor(model, sub.Tensors(i), i, data) for i in range(sub.TensorsLength()))
        operators = tuple(_read_operator(model, sub.Operators(i), i, len(tensors))
                          for i in range(sub.OperatorsLength()))
        inputs = _indices(sub.InputsAsNumpy() if sub.InputsLength() else [], len(tensors), "graph input")
        outputs = _indices(sub.OutputsAsNumpy() if sub.OutputsLength() else [], len(tensors), "graph output")
        description = (model.Description() or b"").decode(errors="replace")
        _walk_the_rest(model, sub, len(data))
    except UserError:
        raise
    except _Corrupt as e:
        raise UserError(f"{source}: corrupt TFLite model ({e})") from None
    except (struct.error, IndexError):  # an offset past the end: the generated reader reads out of bounds
        raise UserError(f"{source}: corrupt TFLite model (it points past the end of its {len(data):,} bytes: "
                        "truncated?)") from None
    except Exception as e:  # any other inconsistency the generated reader trips over
        detail = " ".join(str(e).split())
        detail = detail if len(detail) <= 100 else detail[:100] + "…"
        raise UserError(f"{source}: corrupt TFLite model ({type(e).__name__}: {detail})") from None
    if len(inputs) != 1 or len(outputs) != 1:
        raise UserError(f"{source}: {len(inputs)} inputs / {len(outputs)} outputs; a classifier with one input "
                        "and one output is expected")
    facts = ModelFacts(data, str(source), hashlib.sha256(data).hexdigest(), tensors, operators, inputs, outputs,
                       description)
    return facts if labels is None else facts.with_labels(labels)


def load_model_facts(path) -> ModelFacts:
    """MODEL.tflite, or a directory holding model.tflite (or exactly one .tflite), with the class names
    stored beside it (labels.json, labels.txt, or the "labels" of config.json / report.json)."""
    path = Path(path)
    if path.is_dir():
        candidates = [path / "model.tflite"] if (path / "model.tflite").is_file() else sorted(path.glob("*.tflite"))
        if not candidates:
            raise UserError(f"no .tflite model in {path} (run `mobilenet-tiny convert` first)")
        if len(candidates) > 1:
            raise UserError(f"{path} holds {len(candidates)} .tflite models and no model.tflite "
                            f"({', '.join(p.name for p in candidates[:4])}): name the one to use")
        tflite_path, labels_dir = candidates[0], path
    elif path.is_file():
        tflite_path, labels_dir = path, path.parent
    else:
        raise UserError(f"model not found: {path}")
    facts = read_model_facts(tflite_path.read_bytes(), str(tflite_path))
    labels = read_labels(labels_dir)
    return facts if labels is None else replace(facts, labels=tuple(labels))  # counted when used


def read_labels(directory) -> list[str] | None:
    """Class names next to a model: labels.json / labels.txt, else the "labels" of the training run's
    config.json or the converter's report.json."""
    for name in LABEL_FILES:
        p = Path(directory) / name
        if not p.is_file():
            continue
        try:
            if name.endswith(".json"):
                labels = json.loads(p.read_text())
                if isinstance(labels, dict):
                    if not isinstance(labels.get("labels"), list):
                        continue
                    labels = labels["labels"]
            else:
                labels = [line.strip() for line in p.read_text().splitlines() if line.strip()]
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read labels from {p}: {e}") from None
        if not isinstance(labels, list):
            raise UserError(f"{p} must hold a list of class names")
        return [str(label) for label in labels]
    return None


def check_for_microcontroller(model: ModelFacts) -> None:
    """The C array / firmware path needs a full-int8 model of builtin ops."""
    if not model.is_full_int8:
        raise UserError(f"{model.source}: input is {model.input.dtype} and output {model.output.dtype}; "
                        "the microcontroller path needs a full-int8 model (run `mobilenet-tiny convert` on the "
                        "Keras model)")
    for op in model.ops:
        if op.startswith("CUSTOM("):
            raise UserError(f"{model.source}: custom op {op[7:-1]} is not supported: only builtin ops run on "
                            "TFLM here")


class _Corrupt(Exception):
    """A structural inconsistency the generated reader does not check (an index out of range)."""


def _indices(values, count: int, what: str, optional: bool = False) -> tuple[int, ...]:
    out = tuple(int(v) for v in values)
    for v in out:
        if not (0 <= v < count or (optional and v == -1)):
            raise _Corrupt(f"{what} refers to tensor {v} of {count}")
    return out


def _read_operator(model, op, index: int, n_tensors: int) -> Operator:
    if not 0 <= op.OpcodeIndex() < model.OperatorCodesLength():
        raise _Corrupt(f"operator {index} has opcode {op.OpcodeIndex()} of {model.OperatorCodesLength()}")
    code = model.OperatorCodes(op.OpcodeIndex())
    builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    if builtin == tflite.BuiltinOperator.CUSTOM:
        name = "CUSTOM(" + (code.CustomCode() or b"?").decode(errors="replace") + ")"
    else:
        name = BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")
    inputs = _indices(op.InputsAsNumpy() if op.InputsLength() else [], n_tensors, f"operator {index} input", True)
    outputs = _indices(op.OutputsAsNumpy() if op.OutputsLength() else [], n_tensors, f"operator {index} output")
    return Operator(index, name, inputs, outputs, _read_options(op))


def _walk_the_rest(model, sub, file_size: int) -> None:
    """Touch every other table the schema defines (TFLM's Python wrapper unpacks them all before TFLM sees
    the model), so a corrupt one fails here, in the one validation, not in a runtime."""
    model.Version()
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        code.BuiltinCode(), code.DeprecatedBuiltinCode(), code.CustomCode(), code.Version()
    for i in range(model.BuffersLength()):
        b = model.Buffers(i)
        if b.DataLength():
            b.DataAsNumpy()
        if b.Offset() > 1 and b.Offset() + b.Size() > file_size:
            raise _Corrupt(f"buffer {i} ends past the end of the file")
    for i in range(model.MetadataLength()):
        m = model.Metadata(i)
        m.Name()
        if not 0 <= m.Buffer() < model.BuffersLength():
            raise _Corrupt(f"metadata {i} refers to buffer {m.Buffer()} of {model.BuffersLength()}")
    if model.MetadataBufferLength():
        model.MetadataBufferAsNumpy()
    for i in range(model.SignatureDefsLength()):
        sig = model.SignatureDefs(i)
        sig.SignatureKey(), sig.SubgraphIndex()
        for j in range(sig.InputsLength()):
            sig.Inputs(j).Name(), sig.Inputs(j).TensorIndex()
        for j in range(sig.OutputsLength()):
            sig.Outputs(j).Name(), sig.Outputs(j).TensorIndex()
    sub.Name()
    for i in range(sub.TensorsLength()):
        t = sub.Tensors(i)
        if t.ShapeSignatureLength():
            t.ShapeSignatureAsNumpy()
        t.IsVariable(), t.Sparsity(), t.HasRank()
        q = t.Quantization()
        if q is not None:
            q.MinLength() and q.MinAsNumpy(), q.MaxLength() and q.MaxAsNumpy(), q.DetailsType()
    for i in range(sub.OperatorsLength()):
        op = sub.Operators(i)
        op.CustomOptionsLength() and op.CustomOptionsAsNumpy()
        op.IntermediatesLength() and op.IntermediatesAsNumpy()
        op.MutatingVariableInputsLength() and op.MutatingVariableInputsAsNumpy()
        op.BuiltinOptions2Type(), op.CustomOptionsFormat()


def _read_tensor(model, t, index: int, raw: bytes) -> Tensor:
    dtype = TYPE_NAMES.get(t.Type(), f"type{t.Type()}")
    shape = tuple(int(d) for d in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    if any(d < 0 for d in shape):
        raise _Corrupt(f"tensor {index} has shape {list(shape)}")
    q = t.Quantization()
    scales = zero_points = None
    qdim = 0
    if q is not None and q.ScaleLength():
        scales = q.ScaleAsNumpy().astype(np.float32)
        if not np.all(np.isfinite(scales) & (scales >= 0)):
            raise _Corrupt(f"tensor {index} has scale {float(scales[~(np.isfinite(scales) & (scales >= 0))][0]):g}")
        zero_points = (q.ZeroPointAsNumpy().astype(np.int64) if q.ZeroPointLength()
                       else np.zeros(len(scales), np.int64))
        qdim = q.QuantizedDimension()
    if not 0 <= t.Buffer() < max(model.BuffersLength(), 1):
        raise _Corrupt(f"tensor {index} refers to buffer {t.Buffer()} of {model.BuffersLength()}")
    data = None
    buffer = model.Buffers(t.Buffer()) if model.BuffersLength() else None
    if buffer is not None:
        payload = None
        if buffer.DataLength():
            payload = buffer.DataAsNumpy().tobytes()
        elif buffer.Offset() > 1:  # large models keep buffers after the flatbuffer
            if buffer.Offset() + buffer.Size() > len(raw):
                raise _Corrupt(f"buffer {t.Buffer()} ends past the end of the file")
            payload = raw[buffer.Offset(): buffer.Offset() + buffer.Size()]
        if payload is not None and dtype in NUMPY_TYPES:
            data = np.frombuffer(payload, dtype=NUMPY_TYPES[dtype]).copy()
            if data.size == int(np.prod(shape, dtype=np.int64)):
                data = data.reshape(shape)
    name = (t.Name() or b"").decode(errors="replace")
    return Tensor(index, name, shape, dtype, scales, zero_points, qdim, data)


def _read_options(op) -> dict:
    """The builtin options the compiler uses, as a dict, decoded by their schema table type."""
    table = op.BuiltinOptions()
    if table is None:
        return {}
    kind = op.BuiltinOptionsType()
    opts = tflite.BuiltinOptions

    def load(cls):
        o = cls()
        o.Init(table.Bytes, table.Pos)
        return o

    def activation(o):
        return _ACTIVATIONS.get(o.FusedActivationFunction(), o.FusedActivationFunction())

    if kind == opts.Conv2DOptions:
        o = load(tflite.Conv2DOptions)
        return dict(padding=_PADDING.get(o.Padding(), o.Padding()), stride=(o.StrideH(), o.StrideW()),
                    dilation=(o.DilationHFactor(), o.DilationWFactor()), activation=activation(o))
    if kind == opts.DepthwiseConv2DOptions:
        o = load(tflite.DepthwiseConv2DOptions)
        return dict(padding=_PADDING.get(o.Padding(), o.Padding()), stride=(o.StrideH(), o.StrideW()),
                    dilation=(o.DilationHFactor(), o.DilationWFactor()), depth_multiplier=o.DepthMultiplier(),
                    activation=activation(o))
    if kind == opts.Pool2DOptions:
        o = load(tflite.Pool2DOptions)
        return dict(padding=_PADDING.get(o.Padding(), o.Padding()), stride=(o.StrideH(), o.StrideW()),
                    filter=(o.FilterHeight(), o.FilterWidth()), activation=activation(o))
    if kind == opts.FullyConnectedOptions:
        o = load(tflite.FullyConnectedOptions)
        return dict(activation=activation(o), weights_format=o.WeightsFormat(), keep_num_dims=bool(o.KeepNumDims()))
    if kind == opts.AddOptions:
        return dict(activation=activation(load(tflite.AddOptions)))
    if kind == opts.SoftmaxOptions:
        return dict(beta=float(np.float32(load(tflite.SoftmaxOptions).Beta())))
    if kind == opts.ReducerOptions:
        return dict(keep_dims=bool(load(tflite.ReducerOptions).KeepDims()))
    return {}
