"""Emit the compiled model as C99: <name>.h (interface and model facts) and <name>.c (constant data in
flash, one static arena, and <name>_invoke calling the mtk_kernels library in graph order). A patched
schedule's stage (stage.py) is a table of band calls in flash and a loop that runs them."""
from __future__ import annotations

import numpy as np

from ..c_source import c_string_array, c_struct, c_values, generated_by, io_macros
from .lowering import Step
from .ops.common import ConstArray
from .planner import STAGE_BLOCK, Plan, scratch_id
from .stage import prepared

_VALUES_PER_LINE = {"int8_t": 20, "int16_t": 16, "int32_t": 8}
C_TYPE_BYTES = {"int8_t": 1, "int16_t": 2, "int32_t": 4}


def _array(layer: str, a: ConstArray) -> str:
    values = np.asarray(a.values).reshape(-1)
    body = c_values(values, _VALUES_PER_LINE[a.ctype])
    return (f"/* {a.shape_comment} */\n"
            f"static const {a.ctype} MTK_ALIGNED(4) {layer}_{a.suffix}[{len(values)}] = {{\n    {body}\n}};\n")


def render_header(name: str, model, labels: list[str], arena_bytes: int, macs: int, weight_bytes: int) -> str:
    """<name>.h: the model's facts as <NAME>_* macros (the C array's header defines the same ones) and the
    interface; `model` is the model_facts record."""
    up = name.upper()
    lines = [
        f"/* {generated_by(name + '.h', 'compiled int8 model', 'compile')} */",
        f"#ifndef {up}_H_",
        f"#define {up}_H_",
        "",
        "#include <stdint.h>",
        "",
        *io_macros(up, model),
        f"#define {up}_NUM_CLASSES {len(labels)}",
        f"#define {up}_ARENA_BYTES {arena_bytes}",
        f"#define {up}_MACS {macs}",
        f"#define {up}_WEIGHT_BYTES {weight_bytes}  /* constant data in flash */",
        "",
        "#ifdef __cplusplus",
        'extern "C" {',
        "#endif",
        "",
        f"extern const char *const {name}_labels[{up}_NUM_CLASSES];",
        "",
        f"/* Runs the model on one int8 input ({up}_INPUT_BYTES bytes, HWC) and writes {up}_OUTPUT_BYTES int8",
        "   outputs. Returns 0 on success, -1 for a NULL pointer (-2 in -DMTK_POISON_FREED builds when the",
        "   plan's scratch differs from a kernel's). Not reentrant: one static arena. */",
        f"int {name}_invoke(const int8_t *input, int8_t *output);",
        "",
        f"/* The input's place inside the arena: write the input there and pass this pointer to {name}_invoke",
        "   to skip the copy (saves a separate input buffer in RAM). */",
        f"int8_t *{name}_input_buffer(void);",
        "",
        "#ifdef __cplusplus",
        "}",
        "#endif",
        "",
        f"#endif /* {up}_H_ */",
        "",
    ]
    return "\n".join(lines)


def render_source(name: str, steps: list[Step], plan: Plan, graph, labels: list[str]) -> str:
    up = name.upper()
    in_t, out_t = graph.inputs[0], graph.outputs[0]
    out = [
        f"/* {generated_by(name + '.c', 'compiled int8 model', 'compile')}",
        f" * {len([s for s in steps if s.kernel])} kernel calls, {sum(s.macs for s in steps)} MACs, "
        f"{constant_bytes(steps)} bytes of constants (flash).",
        f" * Arena: {plan.arena_bytes} bytes planned ({plan.strategy}); lower bound {plan.lower_bound_bytes} "
        "bytes (largest set of",
        " * activations that must be live at once). Kernels: firmware/lib/mtk_kernels (bit-exact with TFLM). */",
        "#include <string.h>",
        "",
        f'#include "{name}.h"',
        '#include "mtk_kernels.h"',
        "",
        c_string_array(f"const char *const {name}_labels[{up}_NUM_CLASSES]", labels),
        "",
        "/* Every activation lives at a planned offset in this one buffer (the union aligns it). */",
        f"static union {{ int64_t align; int8_t bytes[{up}_ARENA_BYTES]; }} {name}_arena;",
        "",
        "/* Debug builds (-DMTK_TRACE) hand every layer's output to mtk_trace_step() right after it is written",
        "   (a stage's steps after the stage, whole outputs with their bytes, the others with none); with",
        "   -DMTK_TRACE_BANDS too, every band a stage's step writes goes to mtk_trace_rows() (its byte offset in",
        "   the step's output). */",
        "#ifdef MTK_TRACE",
        "void mtk_trace_step(int step, const int8_t *data, uint32_t bytes);",
        "#define MTK_TRACE_STEP(step, data, bytes) mtk_trace_step((step), (data), (bytes))",
        "#else",
        "#define MTK_TRACE_STEP(step, data, bytes) ((void)0)",
        "#endif",
        "#if defined(MTK_TRACE) && defined(MTK_TRACE_BANDS)",
        "void mtk_trace_rows(int step, uint32_t offset, const int8_t *data, uint32_t bytes);",
        "#define MTK_TRACE_ROWS(step, offset, data, bytes) mtk_trace_rows((step), (offset), (data), (bytes))",
        "#else",
        "#define MTK_TRACE_ROWS(step, offset, data, bytes) ((void)0)",
        "#endif",
        "/* Planner check (-DMTK_POISON_FREED): the arena starts as garbage and every buffer is overwritten as",
        "   soon as its last reader is done, so any live overlap would change the outputs; and every kernel's",
        "   own scratch size must be what the plan reserved (the compiler computes it separately). */",
        "#ifdef MTK_POISON_FREED",
        "#define MTK_POISON(offset, bytes) memset(arena + (offset), 0x5A, (bytes))",
        "#else",
        "#define MTK_POISON(offset, bytes) ((void)0)",
        "#endif",
        "",
        "/* Buffer offsets: tensor -> [offset, offset + size), live from step to step. */",
    ]
    for b in sorted(plan.buffers.values(), key=lambda b: b.offset):
        if b.tensor == STAGE_BLOCK:
            what = "the stage's row buffers and scratch (below)"
        elif b.tensor < 0:
            what = f"scratch of {steps[-b.tensor - 1].layer}"
        else:
            what = _tensor_text(graph, b.tensor)
        out.append(f"/*   {b.offset:>7} +{b.size:<7} steps {b.first}-{b.last}: {what} */")
    if plan.in_place_steps:
        out.append("/* In place (the output overwrites an input, one buffer): "
                   + ", ".join(steps[i].layer for i in plan.in_place_steps) + ". */")
    out.append("")
    for step in steps:
        out.append(f"/* ---- {step.layer}: {step.comment} ---- */")
        for a in step.arrays:
            out.append(_array(step.layer, a))
        if step.params_type:
            out.append(c_struct(step.params_type, step.layer, step.fields))
    if plan.stage is not None:
        out += _render_stage(name, steps, plan, graph)
    out += [
        f"int8_t *{name}_input_buffer(void)",
        "{",
        f"    return {name}_arena.bytes + {plan.offset(in_t)};",
        "}",
        "",
        f"int {name}_invoke(const int8_t *input, int8_t *output)",
        "{",
        f"    int8_t *const arena = {name}_arena.bytes;",
        "    if (input == NULL || output == NULL) {",
        "        return -1;",
        "    }",
        f"    MTK_POISON(0, {plan.offset(in_t)}u); /* everything but the input's place */",
        f"    MTK_POISON({plan.offset(in_t)} + {up}_INPUT_BYTES, "
        f"{up}_ARENA_BYTES - {plan.offset(in_t)} - {up}_INPUT_BYTES);",
    ]
    checks = [f"{s.entry.scratch_function}(&{s.layer}) != {s.scratch_bytes}u" for s in steps if s.takes_scratch]
    if checks:
        out += ["#ifdef MTK_POISON_FREED", "    if (" + " ||\n        ".join(checks) + ") {",
                "        return -2;", "    }", "#endif"]
    out += [
        f"    if (input != arena + {plan.offset(in_t)}) {{",
        f"        memcpy(arena + {plan.offset(in_t)}, input, {up}_INPUT_BYTES);",
        "    }",
    ]
    first_step = 0
    if plan.stage is not None:
        stage = plan.stage
        first_step = stage.last_step + 1
        out.append(f"    /* 0-{stage.last_step}. the patched stage: {stage.describe()} */")
        out.append(f"    {name}_stage(arena);")
        for i in stage.steps:
            whole = stage.buffers[steps[i].output].kind == "whole"
            data = f"arena + {plan.offset(steps[i].output)}, {graph.tensors[steps[i].output].nbytes}u" if whole \
                else "NULL, 0u"
            out.append(f"    MTK_TRACE_STEP({i}, {data});")
        for b in sorted(plan.buffers.values(), key=lambda b: b.offset):
            if b.last <= stage.last_step:
                out.append(f"    MTK_POISON({b.offset}, {b.size}u);")
        if stage.output_on_input is not None:  # the input's bytes beyond the output over it
            o = plan.buffers[plan.alias_root.get(stage.output_on_input, stage.output_on_input)]
            used = graph.tensors[stage.output_on_input].nbytes
            if o.size > used:
                out.append(f"    MTK_POISON({o.offset + used}, {o.size - used}u); /* the input's rows beyond "
                           "the stage's output */")
    for i, step in enumerate(steps):
        if i < first_step:
            continue
        out.append(f"    /* {i}. {step.layer}: {step.comment} */")
        if step.kernel is None:
            continue
        args = ", ".join(f"arena + {plan.offset(t)}" for t in step.inputs)
        args += f", arena + {plan.offset(step.output)}"
        if step.takes_scratch:
            args += f", arena + {plan.offset(scratch_id(i))}" if step.scratch_bytes else ", NULL"
        out.append(f"    {step.kernel}(&{step.layer}, {args});")
        out.append(f"    MTK_TRACE_STEP({i}, arena + {plan.offset(step.output)}, "
                   f"{graph.tensors[step.output].nbytes}u);")
        for b in sorted(plan.buffers.values(), key=lambda b: b.offset):
            if b.last == i:
                out.append(f"    MTK_POISON({b.offset}, {b.size}u);")
    out += [
        f"    memcpy(output, arena + {plan.offset(out_t)}, {up}_OUTPUT_BYTES);",
        "    return 0;",
        "}",
        "",
    ]
    return "\n".join(out)


def _tensor_text(graph, t: int) -> str:
    tensor = graph.tensors[t]
    return f"{tensor.name.split(';')[0][:90]} {list(tensor.shape)}"


_BAND_FIELDS = ("step", "out_rows", "in_rows", "pad_top", "in_row", "out_row", "move_from", "move_rows")


def _render_stage(name: str, steps: list[Step], plan: Plan, graph) -> list[str]:
    """The stage's band table and <name>_stage(), which runs it: per call, the kept rows of a window move to
    its top, then the step's kernel runs on a copy of its descriptor restricted to the band."""
    stage = plan.stage
    calls = stage.calls
    values = [v for c in calls for v in (c.step, c.out_rows, c.in_rows, c.pad_top, *c.in_pos, c.out_pos,
                                         c.move_from, c.move_rows)]
    ctype = "uint8_t" if max(values, default=0) < 256 else "uint16_t"
    n_in = max(len(steps[i].inputs) for i in stage.steps)
    band_t = f"{name}_band"

    def base(t: int) -> str:
        b = stage.buffers[t]
        if b.kind in ("input", "whole"):
            return f"arena + {plan.offset(t)}"
        return f"arena + {plan.stage_offset + b.offset}"

    def where(t: int) -> str:
        b = stage.buffers[t]
        at = plan.offset(t) if b.kind in ("input", "whole") else plan.stage_offset + b.offset
        kind = {"input": "the input, whole", "whole": "whole",
                "window": f"{'ring' if b.ring else 'window'} of {b.rows} rows",
                "transient": f"{b.rows} row{'s' if b.rows > 1 else ''}, read in the same iteration"}[b.kind]
        return f"{t} at {at} ({kind}, {b.row_bytes} B a row)"

    out = [
        f"/* ---- The patched stage: {stage.describe()}. Every step makes each of its output rows once, as soon",
        " * as its inputs hold the rows its windows read, into a buffer holding only the rows still to be read:",
        " * a window keeps the rows a later window needs, as a ring (row r in buffer row r mod its rows) or moved",
        " * to its top when new rows would not fit, a transient buffer is read in the same iteration. One entry",
        " * per kernel call: the step, its output rows, the input rows it reads (the padding rows above them),",
        " * where they are in their buffers (rows), and the window rows to move first. ---- */",
        "typedef struct {",
        f"    {ctype} step, out_rows, in_rows, pad_top;",
        f"    {ctype} in_row[{n_in}];",
        f"    {ctype} out_row, move_from, move_rows;",
        f"}} {band_t};",
        "",
        f"static const {band_t} {name}_bands[{len(calls)}] = {{",
    ]
    rows = []
    for c in calls:
        ins = ", ".join(str(v) for v in (c.in_pos + [0] * (n_in - len(c.in_pos))))
        rows.append(f"{{{c.step}, {c.out_rows}, {c.in_rows}, {c.pad_top}, {{{ins}}}, {c.out_pos}, {c.move_from}, "
                    f"{c.move_rows}}}")
    for i in range(0, len(rows), 4):
        out.append("    " + ", ".join(rows[i:i + 4]) + ("," if i + 4 < len(rows) else ""))
    out += ["};", "", f"static void {name}_stage(int8_t *const arena)", "{"]
    for i in stage.steps:
        if prepared(steps[i]):
            out.append(f"    {steps[i].entry.band_prepare}(&{steps[i].layer}, "
                       f"arena + {plan.stage_offset + stage.scratch_offsets[i]}); /* once for all its bands */")
    out += ["#if defined(MTK_TRACE) && defined(MTK_TRACE_BANDS)",
            f"    uint32_t made[{len(list(stage.steps))}] = {{0}}; /* rows each step has made (the trace's offsets) */",
            "#endif",
            f"    for (const {band_t} *b = {name}_bands; b != {name}_bands + {len(calls)}; ++b) {{",
            "        switch (b->step) {"]
    for i in stage.steps:
        step = steps[i]
        ob = stage.buffers[step.output]
        rb = ob.row_bytes
        out.append(f"        case {i}: {{ /* {step.layer}: {' + '.join(where(t) for t in step.inputs)} -> "
                   f"{where(step.output)} */")
        out.append(f"            int8_t *const out = {base(step.output)};")
        if ob.kind == "window" and not ob.ring:
            out += ["            if (b->move_rows) {",
                    f"                memmove(out, out + b->move_from * {rb}u, b->move_rows * {rb}u);",
                    f"                MTK_POISON(out - arena + b->move_rows * {rb}u, ({ob.rows}u - b->move_rows) * {rb}u);",
                    "            }"]
        elif ob.kind == "transient":
            out.append(f"            MTK_POISON(out - arena, {ob.rows * rb}u); /* last iteration's rows are dead */")
        out.append(f"            {step.params_type} d = {step.layer};")
        for field_name, value in step.entry.band_fields(graph, step, "b->in_rows", "b->out_rows", "b->pad_top"):
            out.append(f"            d.{field_name} = {value};")
        args = []
        for j, t in enumerate(step.inputs):
            if stage.buffers[t].ring and step.entry.ring_fields is not None:
                ring, first = step.entry.ring_fields
                out += [f"            d.{ring} = {stage.buffers[t].rows};", f"            d.{first} = b->in_row[{j}];"]
                args.append(base(t))
            else:
                args.append(f"{base(t)} + b->in_row[{j}] * {stage.buffers[t].row_bytes}u")
        args.append(f"out + b->out_row * {rb}u")
        if step.takes_scratch:
            args.append(f"arena + {plan.stage_offset + stage.scratch_offsets[i]}" if step.scratch_bytes else "NULL")
        kernel = step.entry.band_kernel if prepared(step) else step.kernel
        out.append(f"            {kernel}(&d, {', '.join(args)});")
        out += ["#if defined(MTK_TRACE) && defined(MTK_TRACE_BANDS)",
                f"            MTK_TRACE_ROWS({i}, made[{i}] * {rb}u, out + b->out_row * {rb}u, b->out_rows * {rb}u);",
                f"            made[{i}] += b->out_rows;",
                "#endif",
                "            break;", "        }"]
    out += ["        default:", "            break;", "        }", "    }", "}", ""]
    return out


def constant_bytes(steps: list[Step]) -> int:
    """Bytes of constant data (weights, quantization tables) the generated code puts in flash."""
    return sum(np.asarray(a.values).size * C_TYPE_BYTES[a.ctype] for s in steps for a in s.arrays)
