"""The compiler's view of a model: the record of model_facts (one read of the .tflite) narrowed to the
operators on the data path, each checked against the op table.

Everything the compiled runtime cannot execute is rejected here with a one-line UserError naming the
operator and tensor: operators missing from the op table, non-int8 activations, batch > 1, and what each
entry's own check refuses.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError
from ..model_facts import ModelFacts, Operator, Tensor, read_model_facts
from .ops import OP_TABLE, OpEntry


@dataclass
class Graph:
    model: ModelFacts
    operators: list[Operator]  # the data path, in execution order

    @property
    def tensors(self) -> tuple[Tensor, ...]:
        return self.model.tensors

    @property
    def inputs(self) -> tuple[int, ...]:
        return self.model.inputs

    @property
    def outputs(self) -> tuple[int, ...]:
        return self.model.outputs

    def tensor(self, index: int) -> Tensor | None:
        return self.model.tensor(index)

    def entry(self, op: Operator) -> OpEntry:
        return OP_TABLE[op.name]


def read_model(model: ModelFacts | bytes) -> Graph:
    """The data-path graph of a model (the record, or .tflite bytes read here); UserError for anything the
    compiled runtime cannot run."""
    if not isinstance(model, ModelFacts):
        model = read_model_facts(model)
    graph = Graph(model, _data_path(model))
    for op in graph.operators:
        _check(graph, op)
    return graph


def _data_inputs(op: Operator) -> tuple[int, ...]:
    entry = OP_TABLE.get(op.name)
    n = entry.data_inputs if entry is not None else None
    return op.inputs if n is None else op.inputs[:n]


def _data_path(model: ModelFacts) -> list[Operator]:
    """Operators whose results reach the output through data inputs. keras' Reshape layer exports a
    SHAPE → STRIDED_SLICE → PACK chain for a dynamic batch that only feeds RESHAPE's shape operand; shapes
    are static in the flatbuffer, so the compiled code never needs it. Every operator on the data path is
    kept and checked."""
    needed = set(model.outputs)
    kept = []
    for op in reversed(model.operators):
        if not needed.intersection(op.outputs):
            continue
        kept.append(op)
        needed.update(t for t in _data_inputs(op) if t >= 0)
    return kept[::-1]


def _check(graph: Graph, op: Operator) -> None:
    entry = OP_TABLE.get(op.name)
    if entry is None:
        out = graph.tensor(op.outputs[0]) if op.outputs else None
        where = f" (output tensor {out.describe()})" if out else ""
        raise UserError(f"operator {op.index} {op.name}{where} is not supported by the compiled runtime; "
                        f"supported: {', '.join(OP_TABLE)}")
    lo, hi = entry.inputs
    if not lo <= len(op.inputs) <= hi or len(op.outputs) != 1 or op.inputs[0] < 0:
        raise UserError(f"operator {op.index} {op.name} has {len(op.inputs)} inputs and {len(op.outputs)} outputs;"
                        f" {op.name} takes {lo if lo == hi else f'{lo} to {hi}'} and gives 1 (a corrupt model?)")
    missing = [o for o in entry.options if o not in op.options]
    if missing:
        raise UserError(f"operator {op.index} {op.name} has no {', '.join(missing)} in its options (a corrupt "
                        "model?)")
    for role, indices in (("input", _data_inputs(op)), ("output", op.outputs)):
        for i in indices:
            t = graph.tensor(i)
            if t is None or t.is_constant:
                continue
            if t.dtype != "int8":
                raise UserError(f"operator {op.index} {op.name}: {role} tensor {t.describe()} is {t.dtype}; "
                                "the compiled runtime needs int8 activations (full-integer quantization)")
            if t.scales is None:
                raise UserError(f"operator {op.index} {op.name}: {role} tensor {t.describe()} has no "
                                "quantization parameters")
            if t.scale <= 0 or 0 in t.shape:
                raise UserError(f"operator {op.index} {op.name}: {role} tensor {t.describe()} has scale "
                                f"{t.scale:g}; an activation needs a positive scale and no empty dimension")
            if t.shape and t.shape[0] != 1:
                raise UserError(f"operator {op.index} {op.name}: {role} tensor {t.describe()} has batch "
                                f"{t.shape[0]}; the compiled runtime runs batch 1")
    entry.check(graph, op)
