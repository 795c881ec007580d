"""Emit the compiled model as C99: <name>.h (interface and model facts) and <name>.c (constant data in
flash, one static arena, and <name>_invoke calling the mtk_kernels library in graph order)."""
from __future__ import annotations

import numpy as np

from ..c_source import c_string_array, c_struct, c_values, generated_by, io_macros
from .lowering import Step
from .ops.common import ConstArray
from .planner import Plan, scratch_id

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
        "/* Debug builds (-DMTK_TRACE) hand every layer's output to mtk_trace_step() right after it is written. */",
        "#ifdef MTK_TRACE",
        "void mtk_trace_step(int step, const int8_t *data, uint32_t bytes);",
        "#define MTK_TRACE_STEP(step, data, bytes) mtk_trace_step((step), (data), (bytes))",
        "#else",
        "#define MTK_TRACE_STEP(step, data, bytes) ((void)0)",
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
        if b.tensor < 0:
            what = f"scratch of {steps[-b.tensor - 1].layer}"
        else:
            t = graph.tensors[b.tensor]
            what = f"{t.name.split(';')[0][:90]} {list(t.shape)}"
        out.append(f"/*   {b.offset:>7} +{b.size:<7} steps {b.first}-{b.last}: {what} */")
    out.append("")
    for step in steps:
        out.append(f"/* ---- {step.layer}: {step.comment} ---- */")
        for a in step.arrays:
            out.append(_array(step.layer, a))
        if step.params_type:
            out.append(c_struct(step.params_type, step.layer, step.fields))
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
    for i, step in enumerate(steps):
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


def constant_bytes(steps: list[Step]) -> int:
    """Bytes of constant data (weights, quantization tables) the generated code puts in flash."""
    return sum(np.asarray(a.values).size * C_TYPE_BYTES[a.ctype] for s in steps for a in s.arrays)
