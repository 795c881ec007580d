"""Arena planning: one offset per activation buffer inside a single static arena.

A buffer is a tensor plus every RESHAPE alias of it. Its lifetime runs from the step that produces it (the
graph input: step 0) to the last step that reads it (the graph output: the end). Two buffers may share
bytes only if their lifetimes do not overlap. The lower bound is the largest total of buffers live at any
one step; the plan tries several greedy orders (TFLM's greedy-by-size among them) and keeps the smallest.
"""
from __future__ import annotations

from dataclasses import dataclass

ALIGNMENT = 4  # word-aligned buffers let the DSP path use 32-bit loads


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


@dataclass
class Buffer:
    tensor: int  # the root tensor (aliases point here)
    size: int
    first: int  # first step index where it must hold data
    last: int  # last step index where it is read
    offset: int = -1

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last


@dataclass
class Plan:
    buffers: dict[int, Buffer]  # root tensor (or scratch_id(step)) -> buffer
    alias_root: dict[int, int]  # tensor -> root tensor
    arena_bytes: int
    lower_bound_bytes: int
    strategy: str

    def offset(self, tensor: int) -> int:
        return self.buffers[self.alias_root.get(tensor, tensor)].offset


def lifetimes(steps, graph) -> tuple[dict[int, Buffer], dict[int, int]]:
    alias_root: dict[int, int] = {}

    def root(t: int) -> int:
        while t in alias_root:
            t = alias_root[t]
        return t

    for step in steps:
        if step.alias_of is not None:
            alias_root[step.output] = root(step.alias_of)
    buffers: dict[int, Buffer] = {}

    def touch(t: int, i: int, size: int):
        r = root(t)
        if r not in buffers:
            buffers[r] = Buffer(r, _align(size), i, i)
        b = buffers[r]
        b.first, b.last = min(b.first, i), max(b.last, i)

    end = len(steps)
    for t in graph.inputs:
        touch(t, 0, graph.tensors[t].nbytes)
    for i, step in enumerate(steps):
        for t in step.inputs:
            touch(t, i, graph.tensors[t].nbytes)
        touch(step.output, i, graph.tensors[step.output].nbytes)
    for t in graph.outputs:
        touch(t, end, graph.tensors[t].nbytes)
    for i, step in enumerate(steps):  # kernel scratch lives for its own step only
        if step.scratch_bytes:
            buffers[scratch_id(i)] = Buffer(scratch_id(i), _align(step.scratch_bytes), i, i)
    return buffers, {t: root(t) for t in alias_root}


def scratch_id(step_index: int) -> int:
    """Key of a step's scratch buffer in Plan.buffers (negative: never a tensor index)."""
    return -(step_index + 1)


def lower_bound(buffers: dict[int, Buffer]) -> int:
    if not buffers:
        return 0
    last = max(b.last for b in buffers.values())
    return max(sum(b.size for b in buffers.values() if b.first <= i <= b.last) for i in range(last + 1))


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


def plan_arena(steps, graph) -> Plan:
    buffers, alias_root = lifetimes(steps, graph)
    bound = lower_bound(buffers)
    best = None
    for name, key in _ORDERS.items():
        order = sorted(buffers.values(), key=key)
        peak = _place(order)
        offsets = {b.tensor: b.offset for b in order}
        if best is None or peak < best[0]:
            best = (peak, name, offsets)
        if peak == bound:
            break
    peak, name, offsets = best
    for t, off in offsets.items():
        buffers[t].offset = off
    return Plan(buffers, alias_root, peak, bound, name)
