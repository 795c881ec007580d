"""Cycle estimates from QEMU's executed instruction stream: a TCG plugin counts what QEMU runs, GNU objdump
says what each address holds, and the Cortex-M4 Technical Reference Manual's timings price it in context
(cortex_m4.py lists every rule and assumption). Also the Cortex-M55 view, an MVE instruction as two beats (a gather or scatter one a lane)."""
from .estimate import CYCLE_MODELS, Estimate, WindowEstimate, estimate_cycles, symbols

__all__ = ["CYCLE_MODELS", "Estimate", "WindowEstimate", "estimate_cycles", "symbols"]
