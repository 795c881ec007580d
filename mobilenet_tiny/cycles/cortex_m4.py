"""Cortex-M4 cycles of an instruction in its context, from the timings of the Cortex-M4 Technical Reference
Manual (Table 3-1, the DSP and FPU instruction tables, section 3.3.2 "Load/store timings"), zero wait states.

What the TRM states and this model applies:
- Data processing, multiplies (MUL, MLA, MLS, SMULL, UMULL, SMLAL, UMLAL) and every DSP instruction (SMLAD,
  SMLAxy, SMMLAR, SXTB16, SSAT, SEL, …): 1 cycle. SDIV/UDIV: 2 to 12, early termination on the operands'
  leading bits: taken as 12 (the operands are not seen here).
- LDR/LDRB/LDRH/LDRSB/LDRSH (and LDREX, STREX): 2; pipelined: when the instruction before is such a load
  whose destination is not used to form this address, 1. STR with an immediate offset: always 1; STR with
  a register offset: 2, or 1 after a load. Nothing is pipelined after a store.
- A load or store whose address uses the result of the data-processing instruction just before: +1 (no
  forwarding path).
- LDRD/STRD: 3 (1 + N), LDM/STM/PUSH/POP: 1 + N (N registers), none of them pipelined with neighbours.
- Branches: B<cc>, CBZ, CBNZ not taken 1; taken, and B, BL, BX, BLX: 1 + P; POP/LDM with PC 1 + N + P;
  LDR PC 2 + P; TBB/TBH 2 + P. IT: folded onto a preceding 16-bit instruction (0), else 1.
- FPU: VMLA/VMLS/VFMA family 3, VDIV/VSQRT 14, VLDR/VSTR 2, VLDM/VSTM/VPUSH/VPOP 1 + N (words), others 1.

Where the TRM gives a range, this model fixes it (documented in the README):
- P (pipeline refill, "1 to 3 depending on the alignment and width of the target instruction, and whether
  the processor manages to speculate the address early"): 1 for a direct branch (B, BL, B<cc>, CBZ/CBNZ,
  whose target the M4 fetches early), 2 for a register branch (BX, BLX, MOV/ADD PC), 3 for a PC loaded
  from memory (POP/LDM/LDR PC, TBB/TBH: the TRM's "three cycles for the pipeline reload"); +1 when the
  target is a 32-bit instruction that straddles a word boundary; never above 3.
- Conditional instructions inside an IT block are timed as executed (except branches, whose outcome the
  stream shows); unaligned accesses and literal-pool contention add nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .decode import (Instruction, address_registers, fp_list_words, has_register_offset, register_list, registers,
                     split_condition)

LOADS = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrt", "ldrbt", "ldrht", "ldrsbt", "ldrsht", "ldrex", "ldrexb",
         "ldrexh", "lda", "ldab", "ldah", "ldaex", "ldaexb", "ldaexh",
         "strex", "strexb", "strexh", "stlex", "stlexb", "stlexh"}  # STREX pipelines like a load (the TRM)
STORES = {"str", "strb", "strh", "strt", "strbt", "strht", "stl", "stlb", "stlh"}
DOUBLES = {"ldrd", "strd"}
MULTI_LOADS = {"ldm", "ldmia", "ldmfd", "ldmdb", "ldmea", "pop"}
MULTI_STORES = {"stm", "stmia", "stmea", "stmdb", "stmfd", "push"}
FP_SINGLE = {"vldr", "vstr"}
FP_MULTI = {"vldm", "vldmia", "vldmdb", "vstm", "vstmia", "vstmdb", "vpush", "vpop"}
FP_MAC = {"vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"}
FP_LONG = {"vdiv", "vsqrt"}
DIVIDES = {"sdiv", "udiv"}
DIRECT_BRANCHES = {"b", "bl", "cbz", "cbnz"}
REGISTER_BRANCHES = {"bx", "blx"}
TABLE_BRANCHES = {"tbb", "tbh"}
NO_DESTINATION = {"cmp", "cmn", "tst", "teq", "nop", "bkpt", "svc", "dmb", "dsb", "isb", "cpsid", "cpsie", "msr",
                  "wfi", "wfe", "sev", "vcmp", "vcmpe", "pld", "pli", "vmsr", "yield"}
LONG_MULTIPLIES = {"smull", "umull", "smlal", "umlal", "umaal", "smlald", "smlaldx", "smlsld", "smlsldx", "smlalbb",
                   "smlalbt", "smlaltb", "smlaltt"}
KNOWN = (LOADS | STORES | DOUBLES | MULTI_LOADS | MULTI_STORES | FP_SINGLE | FP_MULTI | FP_MAC | FP_LONG | DIVIDES
         | DIRECT_BRANCHES | REGISTER_BRANCHES | TABLE_BRANCHES | NO_DESTINATION | LONG_MULTIPLIES
         | {"mov", "add", "sub", "mla", "mls", "mul", "and", "orr", "eor", "lsl", "lsr", "asr"})

P_DIRECT, P_REGISTER, P_LOADED = 1, 2, 3


@dataclass(frozen=True)
class Timed:
    """An instruction as the model sees it."""
    insn: Instruction
    base: str
    condition: str
    kind: str               # alu, it, load, store, double, multi, fp_ls, fp_multi, branch
    cycles: int             # without context (pipelining, stalls) and, for a branch, when taken minus P
    destinations: frozenset
    address: frozenset      # registers forming a load/store address
    branch: str = ""        # "", direct, register, loaded: how the target is found (P)
    conditional: bool = False

    @property
    def size(self) -> int:
        return self.insn.size


def _first_operand_register(operands: str) -> list[str]:
    first = operands.split(",")[0].strip().rstrip("!")
    regs = registers(first)
    return regs[:1] if regs and regs[0] == first else []


def classify(insn: Instruction) -> Timed:
    base, cond = split_condition(insn.mnemonic, KNOWN)
    ops = insn.operands
    if re.fullmatch(r"it[te]{0,3}", insn.mnemonic):
        return Timed(insn, base, "", "it", 1, frozenset(), frozenset())
    before_bracket = ops.split("[")[0]
    if base in LOADS or base in STORES:
        dests = frozenset(registers(before_bracket)) if base in LOADS else frozenset()
        if base in LOADS and base.startswith(("strex", "stlex")):
            dests = frozenset(registers(before_bracket)[:1])  # the status register
        addr = frozenset(address_registers(ops))
        if base.startswith("ldr") and "pc" in dests:
            return Timed(insn, base, cond, "branch", 2, dests, addr, "loaded", bool(cond))
        if base in STORES:
            kind = "store_reg" if has_register_offset(ops) else "store"
            return Timed(insn, base, cond, kind, 2 if kind == "store_reg" else 1, dests, addr)
        return Timed(insn, base, cond, "load", 2, dests, addr)
    if base in DOUBLES:
        dests = frozenset(registers(before_bracket)) if base == "ldrd" else frozenset()
        return Timed(insn, base, cond, "double", 3, dests, frozenset(address_registers(ops)))
    if base in MULTI_LOADS or base in MULTI_STORES:
        regs = register_list(ops)
        base_reg = frozenset(["sp"]) if base in ("push", "pop") else frozenset(registers(ops.split("{")[0])[:1])
        dests = frozenset(regs) if base in MULTI_LOADS else frozenset()
        if base in MULTI_LOADS and "pc" in regs:
            return Timed(insn, base, cond, "branch", 1 + len(regs), dests, base_reg, "loaded", bool(cond))
        return Timed(insn, base, cond, "multi", 1 + len(regs), dests, base_reg)
    if base in FP_SINGLE:
        return Timed(insn, base, cond, "fp_ls", 2, frozenset(), frozenset(address_registers(ops)))
    if base in FP_MULTI:
        base_reg = frozenset(["sp"]) if base in ("vpush", "vpop") else frozenset(registers(ops.split("{")[0])[:1])
        return Timed(insn, base, cond, "fp_multi", 1 + fp_list_words(ops), frozenset(), base_reg)
    if base in DIRECT_BRANCHES:
        return Timed(insn, base, cond, "branch", 1, frozenset(["lr"]) if base == "bl" else frozenset(), frozenset(),
                     "direct", bool(cond) or base in ("cbz", "cbnz"))
    if base in REGISTER_BRANCHES:
        return Timed(insn, base, cond, "branch", 1, frozenset(["lr"]) if base == "blx" else frozenset(), frozenset(),
                     "register", bool(cond))
    if base in TABLE_BRANCHES:
        return Timed(insn, base, cond, "branch", 2, frozenset(), frozenset(address_registers(ops)), "loaded",
                     bool(cond))
    dests = frozenset(registers(",".join(ops.split(",")[:2]))[:2]) if base in LONG_MULTIPLIES else \
        frozenset() if base in NO_DESTINATION else frozenset(_first_operand_register(ops))
    if "pc" in dests and base in ("mov", "add"):
        return Timed(insn, base, cond, "branch", 1, frozenset(), frozenset(), "register", bool(cond))
    cycles = 12 if base in DIVIDES else 3 if base in FP_MAC else 14 if base in FP_LONG else 1
    return Timed(insn, base, cond, "alu", cycles, dests, frozenset())


def cycles_in_context(t: Timed, prev: Timed | None) -> int:
    """Cycles of t after prev (None: after a branch or at the start), a taken branch's P excluded."""
    if t.kind == "it":
        return 0 if prev is not None and prev.size == 2 and prev.kind != "branch" else 1
    stall = 1 if (t.address and prev is not None and prev.kind == "alu" and prev.destinations & t.address) else 0
    after_load = prev is not None and prev.kind == "load" and not (prev.destinations & t.address)
    if t.kind == "load" or t.kind == "store_reg":
        return (1 if after_load else 2) + stall
    if t.kind in ("store", "double", "multi", "fp_ls", "fp_multi"):
        return t.cycles + stall
    if t.kind == "branch" and t.address:
        return t.cycles + stall
    return t.cycles


def refill(t: Timed, target: Timed | None) -> int:
    """P of a taken branch t to target (its first instruction)."""
    p = {"direct": P_DIRECT, "register": P_REGISTER, "loaded": P_LOADED}[t.branch]
    if target is not None and target.size == 4 and target.insn.vaddr % 4 == 2:
        p += 1
    return min(p, 3)


def block_cycles(timed: list[Timed], prev: Timed | None = None) -> int:
    """Cycles of a straight run of instructions (a block's body): every branch in it counted as not taken
    if conditional, its P left out; the caller adds P per taken exit."""
    total = 0
    for t in timed:
        total += 1 if (t.kind == "branch" and t.conditional) else cycles_in_context(t, prev)
        prev = t
    return total


def taken_extra(last: Timed, target: Timed | None) -> int:
    """What a taken exit through `last` costs beyond block_cycles: P, and for a conditional branch the
    rest of its taken cost."""
    if last.kind != "branch":
        return 0  # left without a branch (an exception, a split block): nothing to add
    extra = refill(last, target)
    if last.conditional:
        extra += cycles_in_context(last, None) - 1
    return extra


def is_vector(t: Timed) -> bool:
    """A Helium (MVE) instruction: a V-mnemonic on Q registers."""
    return t.base.startswith("v") and bool(re.search(r"\bq[0-7]\b", t.insn.operands))


def gather_lanes(t: Timed) -> int:
    """Lanes of a Helium gather load or scatter store (its addresses a Q register inside [...]), else 0:
    128 bits over the element size its data type names (vldrb.s16: 8)."""
    operands = t.insn.operands
    if t.base[:4] not in ("vldr", "vstr") or not re.search(r"\bq[0-7]\b", operands[operands.find("["):]):
        return 0
    size = re.search(r"(\d+)$", t.insn.mnemonic)
    return 128 // int(size.group(1)) if size else 0


def beats(t: Timed) -> int:
    """The M55 count: most MVE instructions take two beats-cycles on Cortex-M55 (a 64-bit datapath working
    on 128-bit vectors), everything else one. A gather or scatter reaches memory an element at a time (no
    two of its addresses need be in one 64-bit access), so it counts one beat per lane, at least two."""
    if not is_vector(t):
        return 1
    return max(2, gather_lanes(t))
