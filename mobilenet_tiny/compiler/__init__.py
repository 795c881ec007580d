"""The compiled runtime: an int8 .tflite model turned into plain C99 that calls the mtk_kernels library.

    result = compile_model(open("model.tflite", "rb").read(), "out/", name="model", labels=["cat", "dog"])

writes out/model.h and out/model.c. The kernels live in firmware/lib/mtk_kernels (KERNELS_DIR).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..c_source import check_c_name
from ..errors import UserError
from ..fileio import atomic_write, output_set
from ..model_facts import ModelFacts, read_model_facts
from .codegen import constant_bytes, render_header, render_source
from .lowering import lower_graph
from .memory import MODES as MEMORY_MODES, MemoryPlan, plan_memory
from .reader import read_model
from .scratch import KERNELS_DIR


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
    memory: MemoryPlan | None = None  # the schedules considered and the one chosen (memory.py)

    @property
    def schedule(self) -> str:
        return self.memory.plan.schedule if self.memory else "layer-by-layer"

    @property
    def live_bytes(self) -> list[tuple[str, int]]:
        """(layer, bytes live while it runs) per step of the chosen schedule."""
        return list(zip(self.layers, self.memory.plan.live_bytes)) if self.memory else []

    layers: list[str] = field(default_factory=list)
    chart_path: Path | None = None

    def memory_report(self) -> dict:
        """The planner's report: every schedule's arena and lower bound, the one chosen, its trade-off,
        and the bytes live per step (JSON-ready)."""
        report = memory_report(self.memory, self.layers)
        if self.chart_path is not None:
            report["chart"] = str(self.chart_path)
        return report


def memory_report(memory: MemoryPlan, layers: list[str]) -> dict:
    report = memory.report()
    report["summary"] = memory.summary()
    report["live_bytes"] = [{"layer": layer, "bytes": b, "layer_by_layer_bytes": base} for layer, b, base
                            in zip(layers, memory.plan.live_bytes, memory.layer_by_layer.plan.live_bytes)]
    return report


def plan_model(model: ModelFacts | bytes, memory: str = "balanced"):
    """(graph, steps, memory plan) of a model: everything compile_model decides, without writing C (fit
    sizes many candidates this way)."""
    if not isinstance(model, ModelFacts):
        model = read_model_facts(model)
    graph = read_model(model)
    if not 2 <= len(model.input.shape) <= 4:
        raise UserError(f"model input {model.input.describe()} must be NHWC (or a flat vector)")
    steps = lower_graph(graph)
    return graph, steps, plan_memory(steps, graph, memory)


def compile_model(model: ModelFacts | bytes, out_dir, name: str = "model", labels: list[str] | None = None,
                  memory: str = "balanced", chart: bool = False) -> CompileResult:
    """Compile an int8 model (the model_facts record, or .tflite bytes) to <out_dir>/<name>.h and <name>.c
    (both or neither: fileio.output_set). Labels: `labels`, else the record's, else class_0, class_1, ...
    `memory`: min, balanced or fast (memory.py: which schedule, and so how much RAM and how many
    instructions). `chart`: also <name>_memory.png, the bytes live per step (memory_chart.py)."""
    check_c_name(name)
    if not isinstance(model, ModelFacts):
        model = read_model_facts(model)
    labels = model.class_names(labels)
    graph, steps, memory_plan = plan_model(model, memory)
    plan = memory_plan.plan
    macs, weight_bytes = sum(s.macs for s in steps), constant_bytes(steps)
    out_dir = Path(out_dir)
    with output_set(out_dir, f"compile:{name}") as outputs:
        atomic_write(outputs.dir / f"{name}.h", render_header(name, model, labels, plan.arena_bytes, macs,
                                                              weight_bytes))
        atomic_write(outputs.dir / f"{name}.c", render_source(name, steps, plan, graph, labels))
        if chart:
            from .memory_chart import plot_live_bytes

            plot_live_bytes(memory_report(memory_plan, [s.layer for s in steps]), outputs.dir / f"{name}_memory.png",
                            f"{name}: activation memory per step")
    header, source = out_dir / f"{name}.h", out_dir / f"{name}.c"
    chart_path = out_dir / f"{name}_memory.png" if chart else None
    return CompileResult(
        header_path=header, source_path=source, arena_bytes=plan.arena_bytes,
        lower_bound_bytes=plan.lower_bound_bytes, macs=macs, weight_bytes=weight_bytes,
        ops=[s.op.name for s in steps], input_shape=model.input_shape, output_size=model.output_size,
        input_scale=model.input_scale, input_zero_point=model.input_zero_point,
        output_scale=model.output_scale, output_zero_point=model.output_zero_point,
        planner_strategy=plan.strategy, labels=labels, memory=memory_plan, layers=[s.layer for s in steps],
        chart_path=chart_path,
    )


__all__ = ["compile_model", "plan_model", "CompileResult", "KERNELS_DIR", "MEMORY_MODES"]
