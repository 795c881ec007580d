"""The memory modes: which schedule a compiled model runs, chosen from its candidates' RAM and instructions.

Schedules (planner.py, stage.py):
- layer-by-layer: every step's output whole, every buffer planned over the steps' lifetimes (the lower bound
  of this schedule is the largest set of tensors two neighbouring layers keep alive);
- in-place: the same, with depthwise convs and ADDs writing over an input that dies there (no extra
  instructions: the kernels run the same code);
- patched: a patch-based stage of steps 0..k in bands of b rows (stage.py), then in-place layer by layer.

`--memory fast` runs in-place (the fewest instructions), `min` the schedule with the smallest arena,
`balanced` (the default) the smallest arena whose estimated instructions stay within BALANCED_BUDGET of
layer-by-layer. Instructions are an estimate here (stage.estimate_overhead, DSP path on the Cortex-M4);
`mobilenet-tiny bench` measures them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UserError
from .planner import Plan, content_roots, plan_arena
from .stage import simulate

MODES = ("min", "balanced", "fast")
BALANCED_BUDGET = 1.10  # instructions of layer-by-layer, at most
ROWS_PER_ITERATION = (1, 2, 4)


@dataclass
class Option:
    """One candidate schedule: its arena, the arena's lower bound, the instructions it adds (estimated)."""
    schedule: str
    arena_bytes: int
    lower_bound_bytes: int
    extra_instructions: int = 0
    last_step: int | None = None
    rows_per_iteration: int | None = None
    plan: Plan | None = field(default=None, repr=False)

    def as_dict(self, baseline: int) -> dict:
        d = {"schedule": self.schedule, "arena_bytes": self.arena_bytes, "lower_bound_bytes": self.lower_bound_bytes,
             "estimated_instructions_ratio": round(1 + self.extra_instructions / baseline, 4)}
        if self.last_step is not None:
            d.update(stage_last_step=self.last_step, rows_per_iteration=self.rows_per_iteration)
        return d


@dataclass
class MemoryPlan:
    mode: str
    plan: Plan  # the chosen schedule's
    chosen: Option
    layer_by_layer: Option
    in_place: Option
    patched: Option | None  # the smallest patched arena found
    frontier: list[Option]  # arena against instructions: every option no other beats on both
    baseline_instructions: int  # estimated, layer-by-layer

    def ratio(self, option: Option) -> float:
        return 1 + option.extra_instructions / self.baseline_instructions

    def report(self) -> dict:
        """What compile --json and the convert report show: each schedule's peak and lower bound, the one
        chosen and why."""
        b = self.baseline_instructions
        return {
            "mode": self.mode, "chosen": self.chosen.as_dict(b),
            "schedules": {"layer-by-layer": self.layer_by_layer.as_dict(b), "in-place": self.in_place.as_dict(b),
                          **({"patched": self.patched.as_dict(b)} if self.patched else {})},
            "frontier": [o.as_dict(b) for o in self.frontier],
            "estimated_baseline_instructions": b,
            "stage": self.plan.stage.describe() if self.plan.stage is not None else None,
        }

    def summary(self) -> str:
        """One line: the schedule chosen and its trade-off."""
        c = self.chosen
        saved = 1 - c.arena_bytes / self.layer_by_layer.arena_bytes
        what = c.schedule if c.last_step is None else \
            f"patched (steps 0-{c.last_step}, bands of {c.rows_per_iteration} row{'s' if c.rows_per_iteration > 1 else ''})"
        return (f"memory {self.mode}: {what}, arena {c.arena_bytes:,} B ({saved:.0%} below layer-by-layer's "
                f"{self.layer_by_layer.arena_bytes:,} B) at an estimated {self.ratio(c):.3f}x its instructions")


def estimate_instructions(steps, graph) -> int:
    """Layer-by-layer instructions on the Cortex-M4 DSP path, roughly: per MAC, per output element and, for
    depthwise, per output row of a group of four channels (its set-up and row expansion), fitted to the
    per-layer profiles of the suite's V1, V2 and VWW-shaped models (`bench --profile --memory fast`):
    each model's conv and depthwise total within 1.5 %, a layer within ~30 % (the small maps' depthwise)."""
    total = 0
    for s in steps:
        out = graph.tensors[s.output].size
        f = dict(s.fields)
        if s.op.name == "CONV_2D":
            windowed = f["filter_h"] * f["filter_w"] > 1
            total += (1.43 * s.macs + 9.2 * out) if windowed else (1.04 * s.macs + 7.3 * out)
        elif s.op.name == "DEPTHWISE_CONV_2D":
            total += 2.49 * s.macs + 91 * f["out_h"] * -(-f["in_c"] // 4)
        elif s.macs:
            total += 3 * s.macs
        elif s.kernel is not None:
            total += 12 * sum(graph.tensors[t].size for t in s.inputs)
    return max(int(total), 1)


def _frontier(options: list[Option]) -> list[Option]:
    ordered = sorted(options, key=lambda o: (o.arena_bytes, o.extra_instructions))
    out, best = [], None
    for o in ordered:
        if best is None or o.extra_instructions < best:
            out.append(o)
            best = o.extra_instructions
    return out


def forced_stage(mode: str) -> tuple[int, int] | None:
    """(last step, rows per iteration) of a mode "stage:LAST:ROWS" (a given stage, for tests and
    experiments), else None."""
    if not mode.startswith("stage:"):
        return None
    try:
        last, rows = (int(v) for v in mode.split(":")[1:])
    except ValueError:
        raise UserError(f"memory mode {mode!r}: expected stage:LAST_STEP:ROWS") from None
    return last, rows


def plan_memory(steps, graph, mode: str = "balanced") -> MemoryPlan:
    forced = forced_stage(mode)
    if mode not in MODES and forced is None:
        raise UserError(f"unknown memory mode {mode!r}: choose one of {', '.join(MODES)}")
    base = plan_arena(steps, graph)
    lbl = Option("layer-by-layer", base.arena_bytes, base.lower_bound_bytes, plan=base)
    in_place_plan = plan_arena(steps, graph, in_place=True)
    ip = Option("in-place", in_place_plan.arena_bytes, in_place_plan.lower_bound_bytes, plan=in_place_plan)
    baseline = estimate_instructions(steps, graph)
    options = [ip]
    if forced is not None:
        stage = simulate(steps, graph, *forced, content_roots(steps))
        if stage is None:
            raise UserError(f"memory mode {mode!r}: steps 0-{forced[0]} cannot run as a stage in bands of "
                            f"{forced[1]} rows")
        plan = plan_arena(steps, graph, in_place=True, stage=stage)
        chosen = Option("patched", plan.arena_bytes, plan.lower_bound_bytes, stage.overhead["instructions"],
                        *forced, plan)
        return MemoryPlan(mode, plan, chosen, lbl, ip, chosen, _frontier([lbl, ip, chosen]), baseline)
    if mode != "fast":
        options += _patched_options(steps, graph, in_place_plan, ip.arena_bytes)
    patched = min((o for o in options if o.schedule == "patched"), key=lambda o: (o.arena_bytes, o.extra_instructions),
                  default=None)
    if mode == "fast":
        chosen = ip
    else:
        budget = (BALANCED_BUDGET - 1) * baseline if mode == "balanced" else float("inf")
        chosen = min((o for o in options if o.extra_instructions <= budget),
                     key=lambda o: (o.arena_bytes, o.extra_instructions))
    return MemoryPlan(mode, chosen.plan, chosen, lbl, ip, patched, _frontier([lbl, *options]), baseline)


def _patched_options(steps, graph, in_place_plan: Plan, best_so_far: int) -> list[Option]:
    """Patched candidates over the stage's last step and rows per iteration, skipping stages that cannot
    beat the best arena found (the layers after them already need more)."""
    content = content_roots(steps)
    live = in_place_plan.live_bytes
    input_bytes = graph.tensors[graph.inputs[0]].nbytes
    options = []
    best = best_so_far
    for last in range(len(steps)):
        if steps[last].entry.rows is None:
            break  # the stage ends at the first step that cannot run on bands
        if max(live[last + 1:], default=0) >= best:
            continue  # the steps after the stage already need more than the best arena so far
        smallest_block = None
        for rows in ROWS_PER_ITERATION:
            stage = simulate(steps, graph, last, rows, content)
            if stage is None:
                break
            plan = plan_arena(steps, graph, in_place=True, stage=stage)
            options.append(Option("patched", plan.arena_bytes, plan.lower_bound_bytes,
                                  stage.overhead["instructions"], last, rows, plan))
            best = min(best, plan.arena_bytes)
            smallest_block = stage.block_lower_bound if smallest_block is None else smallest_block
        if smallest_block is not None and smallest_block + input_bytes >= best:
            break  # a longer stage only adds row buffers to a block that with the input is already too large
    return options
