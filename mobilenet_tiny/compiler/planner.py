"""Arena planning: one offset per activation buffer inside a single static arena.

A buffer is a tensor plus every RESHAPE alias of it. Its lifetime runs from the step that produces it (the
graph input: step 0) to the last step that reads it (the graph output: the end). Two buffers may share
bytes only if their lifetimes do not overlap. The lower bound is the largest total of buffers live at any
one step; the plan tries several greedy orders (TFLM's greedy-by-size among them) and keeps the smallest.

In place (`in_place=True`): a step whose kernel says its output may overwrite an input (a depthwise conv,
an ADD; scratch.py asks the kernels) writes over that input when it is the input's last reader, so both are
one buffer. With a patch-based stage (stage.py) its steps are one unit: the graph input and the tensors the
stage makes whole live across it, its row buffers and scratch in one block; the steps after it are planned
as above.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ALIGNMENT = 4  # word-aligned buffers let the DSP path use 32-bit loads
STAGE_BLOCK = -(1 << 20)  # key of the stage block in Plan.buffers (never a tensor or scratch id)


def align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


_align = align


@dataclass
class Buffer:
    tensor: int  # the root tensor (aliases point here), scratch_id(step), or STAGE_BLOCK
    size: int
    first: int  # first step index where it must hold data
    last: int  # last step index where it is read
    offset: int = -1

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class Plan:
    buffers: dict[int, Buffer]  # root tensor (or scratch_id(step), STAGE_BLOCK) -> buffer
    alias_root: dict[int, int]  # tensor -> root tensor
    arena_bytes: int
    lower_bound_bytes: int
    strategy: str
    schedule: str = "layer-by-layer"  # "layer-by-layer", "in-place" or "patched"
    in_place_steps: list[int] = field(default_factory=list)  # steps whose output overwrites an input
    stage: object = None  # stage.Stage of a patched schedule
    live_bytes: list[int] = field(default_factory=list)  # per step: bytes of buffers live there
    displacement: dict[int, int] = field(default_factory=dict)  # tensor -> bytes after its root's offset

    def offset(self, tensor: int) -> int:
        return self.buffers[self.alias_root.get(tensor, tensor)].offset + self.displacement.get(tensor, 0)

    @property
    def stage_offset(self) -> int:
        return self.buffers[STAGE_BLOCK].offset


def content_roots(steps) -> dict[int, int]:
    """RESHAPE aliases: tensor -> the tensor whose bytes it is."""
    root: dict[int, int] = {}

    def find(t: int) -> int:
        while t in root:
            t = root[t]
        return t

    for step in steps:
        if step.alias_of is not None:
            root[step.output] = find(step.alias_of)
    return {t: find(t) for t in root}


def lifetimes(steps, graph, in_place: bool = False, stage=None
              ) -> tuple[dict[int, Buffer], dict[int, int], list[int]]:
    """(buffers, tensor -> root, steps run in place) for the steps after the stage (all without one)."""
    content = content_roots(steps)

    def of(t: int) -> int:
        return content.get(t, t)

    end = len(steps)
    start = stage.last_step + 1 if stage is not None else 0
    last_read: dict[int, int] = {}
    for i, step in enumerate(steps):
        for t in step.inputs:
            last_read[of(t)] = max(last_read.get(of(t), -1), i)
    for t in graph.outputs:
        last_read[of(t)] = end
    shared: dict[int, int] = {}  # content tensor -> the buffer it is written into (in place)
    in_place_steps = []
    for i in range(start, len(steps)) if in_place else ():
        step = steps[i]
        if not step.in_place_ok:
            continue
        for j in step.entry.in_place_inputs:
            t = of(step.inputs[j]) if j < len(step.inputs) else None
            # Equal sizes only: a smaller output (a strided depthwise conv) would keep the input's bytes.
            if t is not None and last_read.get(t) == i and \
                    graph.tensors[t].nbytes == graph.tensors[step.output].nbytes:
                shared[of(step.output)] = shared.get(t, t)
                in_place_steps.append(i)
                break

    def key(t: int) -> int:
        return shared.get(of(t), of(t))

    buffers: dict[int, Buffer] = {}

    def touch(t: int, i: int, size: int):
        r = key(t)
        if r not in buffers:
            buffers[r] = Buffer(r, align(size), i, i)
        b = buffers[r]
        b.size = max(b.size, align(size))
        b.first, b.last = min(b.first, i), max(b.last, i)

    if start == 0:
        for t in graph.inputs:
            touch(t, 0, graph.tensors[t].nbytes)
    for i in range(start, len(steps)):
        step = steps[i]
        for t in step.inputs:
            touch(t, i, graph.tensors[t].nbytes)
        touch(step.output, i, graph.tensors[step.output].nbytes)
    for t in graph.outputs:
        touch(t, end, graph.tensors[t].nbytes)
    for i in range(start, len(steps)):  # kernel scratch lives for its own step only
        if steps[i].scratch_bytes:
            buffers[scratch_id(i)] = Buffer(scratch_id(i), align(steps[i].scratch_bytes), i, i)
    roots = {t: key(t) for t in {*content, *shared, *(s.output for s in steps)} if key(t) != t}
    if stage is not None:
        _add_stage(stage, graph, buffers, roots, key)
    return buffers, roots, in_place_steps


def _add_stage(stage, graph, buffers: dict[int, Buffer], roots: dict[int, int], key) -> None:
    """The stage's buffers in the plan: the graph input and its whole outputs live through it (a whole
    output over the input's dead rows shares the input's buffer), its block for its steps."""
    last = stage.last_step
    for t, b in stage.buffers.items():
        if b.kind not in ("input", "whole"):
            continue
        r = key(t)
        if r not in buffers:
            buffers[r] = Buffer(r, b.size, 0, last)
        buffers[r].first = 0
        buffers[r].last = max(buffers[r].last, last)
    if stage.output_on_input is not None:  # the input inside the output's buffer, input_lead bytes in
        g, o = key(graph.inputs[0]), key(stage.output_on_input)
        merged = buffers.pop(g)
        buffers[o].size = max(buffers[o].size, stage.input_lead + merged.size)
        buffers[o].last = max(buffers[o].last, merged.last)
        roots[graph.inputs[0]] = o
    buffers[STAGE_BLOCK] = Buffer(STAGE_BLOCK, align(stage.block_bytes), 0, last)


def scratch_id(step_index: int) -> int:
    """Key of a step's scratch buffer in Plan.buffers (negative: never a tensor index)."""
    return -(step_index + 1)


def lower_bound(buffers) -> int:
    """The largest total of buffers live at any one time."""
    buffers = list(buffers.values()) if isinstance(buffers, dict) else list(buffers)
    if not buffers:
        return 0
    last = max(b.last for b in buffers)
    return max(sum(b.size for b in buffers if b.first <= i <= b.last) for i in range(last + 1))


def live_bytes(buffers: dict[int, Buffer], n_steps: int, stage=None) -> list[int]:
    """Bytes live at each step; inside a stage its block counts what is live in it at that step."""
    out = []
    for i in range(n_steps):
        total = 0
        for k, b in buffers.items():
            if b.first <= i <= b.last:
                total += stage.block_live[i] if k == STAGE_BLOCK else b.size
        out.append(total)
    return out


def _place(order: list[Buffer]) -> int:
    placed: list[Buffer] = []
    for b in order:
        conflicts = sorted((p for p in placed if p.overlaps_in_time(b)), key=lambda p: p.offset)
        offset = 0
        for p in conflicts:  # first gap large enough, scanning upward
            if offset + b.size <= p.offset:
                break
            offset = max(offset, p.offset + p.size)
        b.offset = offset
        placed.append(b)
    return max((b.offset + b.size for b in placed), default=0)


_ORDERS = {
    "greedy by size": lambda b: (-b.size, b.first),
    "greedy by size, longest first": lambda b: (-b.size, -(b.last - b.first), b.first),
    "greedy by lifetime then size": lambda b: (-(b.last - b.first), -b.size, b.first),
    "first use": lambda b: (b.first, -b.size),
    "greedy by size × lifetime": lambda b: (-b.size * (b.last - b.first + 1), b.first),
}


def place_best(buffers: list[Buffer], bound: int | None = None) -> tuple[int, str]:
    """Offsets for the buffers from the greedy order that needs the least bytes; (bytes, order's name)."""
    bound = lower_bound(buffers) if bound is None else bound
    best = None
    for name, key in _ORDERS.items():
        order = sorted(buffers, key=key)
        peak = _place(order)
        if best is None or peak < best[0]:
            best = (peak, name, {id(b): b.offset for b in buffers})
        if peak <= bound:
            break
    peak, name, offsets = best
    for b in buffers:
        b.offset = offsets[id(b)]
    return peak, name


def plan_arena(steps, graph, in_place: bool = False, stage=None) -> Plan:
    """The arena of one schedule: layer by layer (optionally in place), or a patch-based stage then layer by
    layer."""
    buffers, alias_root, in_place_steps = lifetimes(steps, graph, in_place, stage)
    live = live_bytes(buffers, len(steps) + 1, stage)
    peak, name = place_best(list(buffers.values()), max(live))
    schedule = "patched" if stage is not None else "in-place" if in_place else "layer-by-layer"
    shift = {graph.inputs[0]: stage.input_lead} if stage is not None and stage.output_on_input is not None else {}
    return Plan(buffers, alias_root, peak, max(live), name, schedule, in_place_steps, stage, live[:len(steps)],
                shift)
