"""The patch-based stage: the first steps of a model run band by band instead of layer by layer.

Where a MobileNet's activations are largest (its first layers), no layer's whole output needs to exist: a
band of output rows needs only the input rows its windows reach. The stage runs steps 0..last on bands of
rows: in every iteration its first step makes `rows_per_iteration` more rows, and every later step makes as
many rows as its inputs now allow (op table: Rows.ready). A tensor made and read inside the stage lives in a
small row buffer holding only the rows still to be read: a *window* (the rows a later window still needs
are kept across iterations: as a ring, row r in buffer row r mod capacity, when no band writes rows across
its end and every reader's kernel takes a ring of rows (OpEntry.ring_fields) or reads none across it, else
moved to the buffer's top when new rows would not fit) or a *transient* buffer
(read within the iteration that made it; transients of different steps share bytes). The graph input is
whole, and its rows die as the stage reads past them; a tensor read after the stage (the split) is made
whole, row by row, and may be placed over the input's dead rows.

Halo rows (the rows two neighbouring bands' windows share) are kept, not recomputed: every output row of
every step is computed exactly once, with the kernels' own arithmetic (the same entry points, on a copy of
the descriptor restricted to the band), so the outputs are those of the layer-by-layer schedule, byte for
byte. What the stage costs is calls, the halo rows a depthwise conv copies into its scratch again per band,
ADD's rescaling tables rebuilt per band, and the kept rows moved (windows that cannot be rings):
`estimate_overhead` counts them.

The whole schedule is computed here, once: `simulate` returns every band call (step, rows, where its input
and output rows are in their buffers, which rows move first), which codegen writes as a table.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .planner import ALIGNMENT, Buffer, align, lower_bound, place_best

INF = 1 << 30


@dataclass
class BandCall:
    step: int
    out_row: int  # first output row it makes
    out_rows: int
    in_rows: int  # input rows it reads (every data input alike)
    pad_top: int  # padding rows above them (the band's descriptor's pad_top)
    in_pos: list[int]  # per data input: the buffer row holding its first input row
    out_pos: int  # the buffer row out_row goes to
    move_from: int = 0  # before the call: output-buffer rows [move_from, move_from + move_rows) move to the top
    move_rows: int = 0


@dataclass
class RowBuffer:
    tensor: int
    row_bytes: int
    rows: int  # capacity in rows
    kind: str  # "input" (the graph input, whole), "whole" (read after the stage), "window", "transient"
    first: int = 0  # stage steps it is live in within an iteration (window: all of them)
    last: int = 0
    offset: int = -1  # windows, transients: inside the stage block
    ring: bool = False  # a window whose row r is buffer row r mod rows (no kept rows moved)

    @property
    def size(self) -> int:
        return align(self.rows * self.row_bytes)


@dataclass
class Stage:
    last_step: int
    rows_per_iteration: int
    iterations: int
    calls: list[BandCall]
    buffers: dict[int, RowBuffer]  # tensor -> its row buffer
    block_bytes: int  # windows, transients and scratch, planned together
    block_lower_bound: int
    scratch_offsets: dict[int, int]  # stage step -> its scratch's offset in the block
    moved_bytes: int
    output_on_input: int | None  # a whole output placed over the input's dead rows ...
    input_lead: int  # ... starting this many bytes before the input
    block_live: list[int]  # per stage step: bytes of the block live there (windows at capacity)
    overhead: dict = field(default_factory=dict)  # estimate_overhead's counts

    @property
    def steps(self) -> range:
        return range(self.last_step + 1)

    def describe(self) -> str:
        return (f"steps 0-{self.last_step} in bands of {self.rows_per_iteration} row"
                f"{'s' if self.rows_per_iteration > 1 else ''} of step 0's output, {self.iterations} iterations, "
                f"{len(self.calls)} calls")


def prepared(step) -> bool:
    """Whether a step's bands read what its entry's band_prepare wrote into its scratch once."""
    return step.entry.band_prepare is not None and step.scratch_bytes > 0


def row_bytes(tensor) -> int:
    return int(tensor.shape[2] * tensor.shape[3]) * tensor.nbytes // max(tensor.size, 1)


def _row_maps(steps, graph, last):
    """Rows per data input of each stage step, or None when a step cannot run on bands."""
    maps = []
    for step in steps[:last + 1]:
        if step.kernel is None or step.entry.rows is None or step.entry.band_fields is None:
            return None
        rows = step.entry.rows(graph, step)
        if rows is None or any(len(graph.tensors[t].shape) != 4 for t in [*step.inputs, step.output]):
            return None
        maps.append(rows)
    return maps


def simulate(steps, graph, last: int, rows_per_iteration: int, content=None) -> Stage | None:
    """The stage of steps 0..last, or None when those steps cannot form one. `content` maps a tensor to the
    tensor whose bytes it shares (RESHAPE aliases; planner.content_roots)."""
    content = content or {}
    maps = _row_maps(steps, graph, last)
    if maps is None:
        return None
    stage = steps[:last + 1]
    graph_input = graph.inputs[0]
    made_by = {s.output: i for i, s in enumerate(stage)}
    if graph_input in made_by or len(made_by) != len(stage):
        return None
    consumers: dict[int, list[tuple[int, int]]] = {t: [] for t in [graph_input, *made_by]}
    for i, s in enumerate(stage):
        for j, t in enumerate(s.inputs):
            if t not in consumers:
                return None  # reads a tensor made before the stage (not the graph input)
            consumers[t].append((i, j))
    later = {content.get(t, t) for s in steps[last + 1:] for t in s.inputs}
    later |= {content.get(t, t) for t in graph.outputs}
    whole = {t for t in made_by if t in later}
    sources = [i for i, s in enumerate(stage) if all(t == graph_input for t in s.inputs)]
    out_h = [maps[i][0].out_h for i in range(len(stage))]
    if not sources or len({out_h[i] for i in sources}) != 1 or not consumers[graph_input]:
        return None
    height = out_h[sources[0]]
    if not 1 <= rows_per_iteration < height:
        return None
    # No step makes more rows in one iteration than its share of the first step's (once the input is all
    # read, a padded bottom would otherwise let a chain make several rows at once, and its windows hold them).
    limit = [max(1, math.ceil(rows_per_iteration * out_h[i] / height)) for i in range(len(stage))]
    tensor_rows = {t: graph.tensors[t].shape[1] for t in consumers}
    done = [0] * len(stage)

    def needed_from(t: int) -> int:
        """The first row of t a stage step will still read (INF: none)."""
        return min((maps[c][j].first(done[c]) for c, j in consumers[t] if done[c] < out_h[c]), default=INF)

    calls, keeps, capacity = [], [], {t: 0 for t in made_by}
    transient = {t: t not in whole for t in made_by}
    input_dead = []  # per call: rows of the graph input no step reads any more, before the call
    iterations = 0
    while any(d < h for d, h in zip(done, out_h)):
        if iterations > 4 * height + len(stage):
            return None  # no progress (cannot happen for the ops' row maps; a guard, not a schedule)
        iterations += 1
        for i, s in enumerate(stage):
            if i in sources:
                target = rows_per_iteration * iterations
            else:
                target = min(m.ready(tensor_rows[t] if t == graph_input else done[made_by[t]])
                             for m, t in zip(maps[i], s.inputs))
            target = min(target, done[i] + limit[i], out_h[i])
            if target <= done[i]:
                continue
            a, e = done[i], target
            t = s.output
            keep = 0 if t in whole else min(needed_from(t), a)
            if t not in whole:
                capacity[t] = max(capacity[t], e - keep)
            first = maps[i][0].first(a)
            end = maps[i][0].end(e)
            pad = first - (a * maps[i][0].stride - maps[i][0].pad_top)
            calls.append(BandCall(i, a, e - a, end - first, pad, [m.first(a) for m in maps[i]], 0))
            keeps.append(keep)
            dead = needed_from(graph_input)
            input_dead.append(tensor_rows[graph_input] if dead == INF else dead)
            done[i] = e
        for t in made_by:
            if transient[t] and needed_from(t) < done[made_by[t]]:
                transient[t] = False

    buffers = {graph_input: RowBuffer(graph_input, row_bytes(graph.tensors[graph_input]),
                                      tensor_rows[graph_input], "input", 0, last)}
    for t, i in made_by.items():
        kind = "whole" if t in whole else "transient" if transient[t] else "window"
        rows = tensor_rows[t] if t in whole else capacity[t]
        readers = [c for c, _ in consumers[t]]
        first, last_use = (i, max(readers, default=i)) if kind == "transient" else (0, last)
        buffers[t] = RowBuffer(t, row_bytes(graph.tensors[t]), rows, kind, first, last_use)

    # Where each call's rows are: a ring's row r is in buffer row r mod its rows; other windows keep their
    # rows from the top, moved up only when new rows would not fit; transients start at the top every time;
    # whole tensors are addressed by row.
    def unwrapped(b: RowBuffer, row: int, rows: int) -> bool:
        return row % b.rows + rows <= b.rows

    for t, i in made_by.items():
        b = buffers[t]
        # a reader without ring fields takes the ring when none of its bands wraps it (a band of one row)
        b.ring = (b.kind == "window"
                  and all(unwrapped(b, c.out_row, c.out_rows) for c in calls if c.step == i)
                  and all((stage[r].entry.ring_fields is not None and len(stage[r].inputs) == 1)
                          or all(unwrapped(b, c.in_pos[j], c.in_rows) for c in calls if c.step == r)
                          for r, j in consumers[t]))
    top = {t: 0 for t in made_by}
    moved = 0
    for call, keep in zip(calls, keeps):
        s = stage[call.step]
        out = buffers[s.output]
        if out.kind == "whole":
            call.out_pos = call.out_row
        elif out.kind == "transient":
            top[s.output] = call.out_row
        elif out.ring:
            call.out_pos = call.out_row % out.rows
        else:
            end = call.out_row + call.out_rows
            if end - top[s.output] > out.rows:
                call.move_from, call.move_rows = keep - top[s.output], call.out_row - keep
                moved += call.move_rows * out.row_bytes
                top[s.output] = keep
            call.out_pos = call.out_row - top[s.output]
        for j, t in enumerate(s.inputs):
            b = buffers[t]
            if b.ring:
                call.in_pos[j] %= b.rows
                assert call.in_rows <= b.rows, (call, b)
            elif b.kind in ("window", "transient"):
                call.in_pos[j] -= top[t]
                assert 0 <= call.in_pos[j] and call.in_pos[j] + call.in_rows <= b.rows, (call, b)
        assert call.out_pos + call.out_rows <= out.rows, (call, out)

    # A whole output may go over the input's dead rows: it starts `lead` bytes before the input, so that
    # every call writes only bytes of input rows no step reads any more (the input shifts up under it).
    output_on_input, input_lead = None, 0
    graph_in = buffers[graph_input]
    if graph_input not in later:
        saved = 0
        for t in whole:
            b = buffers[t]
            lead = align(max([0] + [(c.out_row + c.out_rows) * b.row_bytes - dead * graph_in.row_bytes
                                    for c, dead in zip(calls, input_dead) if stage[c.step].output == t]))
            merged = max(lead + graph_in.size, b.size)
            if graph_in.size + b.size - merged > saved:
                output_on_input, input_lead, saved = t, lead, graph_in.size + b.size - merged

    # The stage block: windows (live across iterations), transients and every step's scratch.
    block = [Buffer(t, b.size, b.first, b.last) for t, b in buffers.items() if b.kind in ("window", "transient")]
    # Scratch lives for its step's calls; a prepared step's (ADD's tables) for the whole stage.
    block += [Buffer(-(i + 1), align(s.scratch_bytes), *((0, last) if prepared(s) else (i, i)))
              for i, s in enumerate(stage) if s.scratch_bytes]
    block_bytes, _ = place_best(block)
    for b in block:
        if b.tensor >= 0:
            buffers[b.tensor].offset = b.offset
    scratch_offsets = {-b.tensor - 1: b.offset for b in block if b.tensor < 0}
    block_live = [sum(b.size for b in block if b.first <= i <= b.last) for i in range(len(stage))]
    result = Stage(last, rows_per_iteration, iterations, calls, buffers, block_bytes, lower_bound(block),
                   scratch_offsets, moved, output_on_input, input_lead, block_live)
    result.overhead = estimate_overhead(result, steps, graph)
    return result


# Instruction counts of the stage's extra work on the emulated Cortex-M4 (DSP path, -O2): a band call's
# fixed cost (the table entry, the descriptor copy, the kernel's set-up), a depthwise conv's per channel
# group and band (its weights paired and records set, its rows' plan, the ring's slots per output row),
# one input pixel of a channel group expanded into scratch again (the planar loop's 6.75 and its row's
# padding pairs), ADD's two rescaling tables (rebuilt per band unless prepared once), a byte moved (newlib's
# memmove, 0.78 measured; windows read as rings move none). Fitted to the default schedule's measured
# overhead over `--memory fast` (`bench --memory balanced/fast`, QEMU instructions), windows as rings:
# V1 392 K (estimated 389 K), VWW-shaped 350 K (341 K), V2 725 K (733 K); groups and pixels rise together in
# these models, so their split is the kernels' (a planar row of 48 pixels ~380 instructions), not the fit's.
# The RISC-V path's overhead is about 1.7x the Arm one.
CALL_INSTRUCTIONS = 170
DEPTHWISE_GROUP_INSTRUCTIONS = 330
DEPTHWISE_EXPAND_PIXEL_INSTRUCTIONS = 8
ADD_TABLE_INSTRUCTIONS = 2 * 256 * 14
MOVE_BYTE_INSTRUCTIONS = 0.8


def estimate_overhead(stage: Stage, steps, graph) -> dict:
    """Instructions the stage adds to the layer-by-layer schedule (an estimate from counts; see above)."""
    calls = len(stage.calls)
    expanded = groups_total = add_tables = 0
    per_step: dict[int, list[BandCall]] = {}
    for c in stage.calls:
        per_step.setdefault(c.step, []).append(c)
    for i, cs in per_step.items():
        s = steps[i]
        f = dict(s.fields)
        if s.op.name == "DEPTHWISE_CONV_2D" and s.scratch_bytes:
            groups = f["in_c"] // 4
            groups_total += groups * (len(cs) - 1)
            extra_rows = sum(c.in_rows for c in cs) - f["in_h"]
            expanded += max(extra_rows, 0) * groups * f["in_w"]
        if s.op.name == "ADD" and s.scratch_bytes and not prepared(s):
            add_tables += len(cs) - 1
    instructions = (calls * CALL_INSTRUCTIONS + groups_total * DEPTHWISE_GROUP_INSTRUCTIONS
                    + expanded * DEPTHWISE_EXPAND_PIXEL_INSTRUCTIONS + add_tables * ADD_TABLE_INSTRUCTIONS
                    + stage.moved_bytes * MOVE_BYTE_INSTRUCTIONS)
    return {"calls": calls, "expanded_pixels": expanded, "add_tables": add_tables,
            "moved_bytes": stage.moved_bytes, "instructions": int(instructions)}


__all__ = ["Stage", "BandCall", "RowBuffer", "simulate", "estimate_overhead", "ALIGNMENT"]
