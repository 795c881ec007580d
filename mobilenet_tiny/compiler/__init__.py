"""The compiled runtime: an int8 .tflite model turned into plain C99 that calls the mtk_kernels library.

    result = compile_model(open("model.tflite", "rb").read(), "out/", name="model", labels=["cat", "dog"])

writes out/model.h and out/model.c. The kernels live in firmware/lib/mtk_kernels (KERNELS_DIR).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..fileio import atomic_write, output_set
from .codegen import C_TYPE_BYTES, render_header, render_source
from .lowering import lower_graph
from .planner import plan_arena
from .reader import read_model

KERNELS_DIR = Path(__file__).resolve().parents[2] / "firmware" / "lib" / "mtk_kernels"


@dataclass
class CompileResult:
    header_path: Path
    source_path: Path
    arena_bytes: int
    lower_bound_bytes: int
    macs: int
    weight_bytes: int  # constant data: weights, folded biases, multipliers, shifts
    ops: list[str]  # builtin op per step, in graph order
    input_shape: tuple[int, int, int]  # H, W, C
    output_size: int
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    planner_strategy: str
    labels: list[str] = field(default_factory=list)


def compile_model(tflite_bytes: bytes, out_dir, name: str = "model", labels: list[str] | None = None) -> CompileResult:
    """Compile an int8 TFLite model to <out_dir>/<name>.h and <name>.c (both or neither: fileio.output_set)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name or ""):
        raise UserError(f"model name {name!r} must be a C identifier (letters, digits, underscores)")
    graph = read_model(tflite_bytes)
    x, y = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    if not 2 <= len(x.shape) <= 4:
        raise UserError(f"model input {x.describe()} must be NHWC (or a flat vector)")
    input_shape = tuple(int(d) for d in (1, 1, *x.shape[1:])[-3:])  # H, W, C; a vector is 1x1xN
    output_size = int(np.prod(y.shape))
    if labels is None:
        labels = [f"class_{i}" for i in range(output_size)]
    labels = [str(label) for label in labels]
    if len(labels) != output_size:
        raise UserError(f"{len(labels)} labels given for a model with {output_size} outputs")

    steps = lower_graph(graph)
    plan = plan_arena(steps, graph)
    weight_bytes = sum(np.asarray(a.values).size * C_TYPE_BYTES[a.ctype] for s in steps for a in s.arrays)
    facts = dict(
        input_shape=input_shape, input_bytes=int(np.prod(x.shape)), input_scale=float(x.scale[0]),
        input_zero_point=int(x.zero_point[0]), output_bytes=output_size, output_scale=float(y.scale[0]),
        output_zero_point=int(y.zero_point[0]), num_classes=output_size, arena_bytes=plan.arena_bytes,
        macs=sum(s.macs for s in steps), weight_bytes=weight_bytes,
    )
    out_dir = Path(out_dir)
    with output_set(out_dir, f"compile:{name}") as outputs:
        atomic_write(outputs.dir / f"{name}.h", render_header(name, facts))
        atomic_write(outputs.dir / f"{name}.c", render_source(name, steps, plan, graph, facts, labels))
    header, source = out_dir / f"{name}.h", out_dir / f"{name}.c"
    return CompileResult(
        header_path=header, source_path=source, arena_bytes=plan.arena_bytes,
        lower_bound_bytes=plan.lower_bound_bytes, macs=facts["macs"], weight_bytes=weight_bytes,
        ops=[s.op.name for s in steps], input_shape=facts["input_shape"], output_size=output_size,
        input_scale=facts["input_scale"], input_zero_point=facts["input_zero_point"],
        output_scale=facts["output_scale"], output_zero_point=facts["output_zero_point"],
        planner_strategy=plan.strategy, labels=labels,
    )


__all__ = ["compile_model", "CompileResult", "KERNELS_DIR"]
