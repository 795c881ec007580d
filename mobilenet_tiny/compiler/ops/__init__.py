"""The op table: one entry per TFLite operator the compiled runtime runs, each owning everything the
compiler knows about it: its support check, its lowering to one kernel call, its MAC count, the name of its
kernel's scratch-size function (scratch sizes are evaluated from the kernels' own C, see scratch.py), whether
and over which input it can run in place, and how it runs on a band of rows (the patch-based stage, stage.py).

Adding an operator means one module here with one OpEntry, one kernel file in firmware/lib/mtk_kernels
(with its descriptor and prototype in mtk_kernels.h), and the entry's line in OP_TABLE below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .common import Call


def _no_check(graph, op) -> None:
    return None


def _no_macs(graph, op) -> int:
    return 0


@dataclass(frozen=True)
class OpEntry:
    name: str  # TFLite builtin operator
    lower: Callable  # (graph, operator, layer name) -> Call
    kernel: str | None = None  # the C entry point; None for aliases (RESHAPE)
    params_type: str | None = None  # its descriptor type in mtk_kernels.h
    scratch_function: str | None = None  # the kernel's *_scratch_bytes(); the kernel then takes a scratch pointer
    check: Callable = _no_check  # (graph, operator) -> None, UserError when unsupported
    macs: Callable = _no_macs  # (graph, operator) -> multiply-accumulates
    inputs: tuple[int, int] = (1, 1)  # how many operands it takes, fewest and most (optional ones: -1)
    options: tuple[str, ...] = ()  # builtin options it reads (model_facts decodes them)
    data_inputs: int | None = None  # inputs that carry data (None: all); RESHAPE's shape operand does not
    in_place_function: str | None = None  # the kernel's *_in_place_ok(): 1 when the output may overwrite an input
    in_place_inputs: tuple[int, ...] = (0,)  # which inputs it may overwrite (the planner picks one that dies)
    rows: Callable | None = None  # (graph, step) -> [Rows per data input], or None: the op runs on bands of rows
    band_fields: Callable | None = None  # (graph, step, in_rows, out_rows, pad_top) -> descriptor fields of a band
    band_prepare: str | None = None  # run once before a stage on the whole descriptor and the step's scratch, ...
    band_kernel: str | None = None  # ... which this entry point then reads per band (instead of `kernel`)
    # The descriptor fields that let it read its one data input from a ring of rows (stage.py: the ring's
    # rows, the band's first row in it); None: it reads rows that follow each other.
    ring_fields: tuple[str, str] | None = None


from . import (add, conv, depthwise, fully_connected, hard_swish, mean, pad, pool, quantize,  # noqa: E402
               relu, relu6, reshape, softmax)

OP_TABLE: dict[str, OpEntry] = {e.name: e for e in (
    conv.ENTRY, depthwise.ENTRY, fully_connected.ENTRY, mean.ENTRY, softmax.ENTRY, reshape.ENTRY, add.ENTRY,
    pool.AVERAGE_ENTRY, pool.MAX_ENTRY, pad.ENTRY, quantize.ENTRY, hard_swish.ENTRY, relu.ENTRY, relu6.ENTRY,
)}

__all__ = ["OP_TABLE", "OpEntry", "Call"]
