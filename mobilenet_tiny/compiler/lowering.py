"""Turn each operator of the data path into one kernel call through its op-table entry: the C descriptor
fields, its constant arrays, the activation tensors it reads and writes, a readable comment, its MAC count
and the scratch its kernel asks for.

Everything data-dependent is computed at compile time (multipliers and shifts as TFLM's Prepare computes
them, padding, activation ranges, biases with the input offset folded in), so the C kernels only do integer
arithmetic. Scratch sizes come from the kernels' own *_scratch_bytes() functions, whether a step may run in
place from their *_in_place_ok() (scratch.py).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model_facts import Operator
from .ops import OpEntry
from .ops.common import ConstArray
from .reader import Graph
from .scratch import evaluate_kernel_facts


@dataclass
class Step:
    op: Operator
    layer: str  # C identifier of the layer, unique in the model
    entry: OpEntry
    fields: list[tuple[str, object]]  # designated initializers, in order
    arrays: list[ConstArray]
    inputs: list[int]  # activation tensors read, in kernel argument order
    output: int
    comment: str
    macs: int = 0
    alias_of: int | None = None  # RESHAPE: output shares the input's memory
    scratch_bytes: int = 0  # working memory the kernel needs during this step (planned into the arena)
    in_place_ok: bool = False  # the kernel says its output may overwrite an input (entry.in_place_inputs)
    notes: list[str] = field(default_factory=list)

    @property
    def kernel(self) -> str | None:
        return self.entry.kernel

    @property
    def params_type(self) -> str | None:
        return self.entry.params_type

    @property
    def takes_scratch(self) -> bool:
        return self.entry.scratch_function is not None


def layer_name(graph: Graph, op: Operator, taken: set[str]) -> str:
    """A C identifier from the output tensor's Keras layer name, e.g. 'conv_pw_3' (unique per model)."""
    out = graph.tensor(op.outputs[0])
    first = out.name.split(";")[0]
    parts = [p for p in first.split("/") if p]
    candidate = parts[1] if len(parts) > 2 else (parts[-1] if parts else "")
    candidate = re.sub(r"[^0-9a-zA-Z_]", "_", candidate).strip("_").lower()
    candidate = re.sub(r"_+", "_", candidate)
    if not candidate or candidate.startswith(("statefulpartitionedcall", "serving_default")):
        candidate = op.name.lower()
    if candidate[0].isdigit():
        candidate = f"op{op.index}_" + candidate if candidate else f"op{op.index}"
    candidate = f"l{op.index:02d}_{candidate}"[:48]
    name, n = candidate, 2
    while name in taken:
        name, n = f"{candidate}_{n}", n + 1
    taken.add(name)
    return name


def lower_graph(graph: Graph) -> list[Step]:
    taken: set[str] = set()
    steps = []
    for op in graph.operators:
        entry = graph.entry(op)
        layer = layer_name(graph, op, taken)
        call = entry.lower(graph, op, layer)
        steps.append(Step(op, layer, entry, call.fields, call.arrays, call.inputs, call.output, call.comment,
                          entry.macs(graph, op), call.alias_of, notes=call.notes))
    sizes, in_place = evaluate_kernel_facts(steps)
    for step, size, ok in zip(steps, sizes, in_place):
        step.scratch_bytes, step.in_place_ok = size, ok
    return steps
