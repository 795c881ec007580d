"""The cycle estimate on small Thumb-2 snippets whose Cortex-M4 cycle counts the Technical Reference Manual
gives (Table 3-1 and section 3.3.2 "Load/store timings", zero wait states): each snippet is assembled into
a bare-metal image, run under QEMU with the stream plugin, and timed. A snippet's cycles are its window's
minus those of an empty window (the call's return), so only the listed instructions are compared."""
import shutil
import subprocess

import pytest

from mobilenet_tiny.cycles import estimate_cycles

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None or shutil.which("qemu-system-arm") is None,
                                reason="needs gcc-arm-none-eabi and qemu-system-arm")

START = """
    .syntax unified
    .thumb
    .text
    .word 0x20010000
    .word reset + 1
    .thumb_func
reset:
    ldr r1, =0x20000200
    movs r2, #0
    ldr r3, =0x20000300
    ldr r4, =0x20000100
    movs r5, #0
    movs r0, #1
    bl snippet
    movs r0, #0x18
    ldr r1, =0x20026
    bkpt 0xab
    .ltorg
    .balign 4
    .thumb_func
    .global snippet
snippet:
"""

# name, instructions (one per line), TRM cycles, where the count comes from
SNIPPETS = [
    ("alu", "adds r0, #1\neors r0, r1\nmov r6, r0\nsub r7, r6, #3", 4, "data processing: 1 each"),
    ("dsp and multiply", "smlad r0, r1, r2, r0\nsmlabb r0, r1, r2, r0\nsmmlar r6, r1, r2, r0\nsxtb16 r7, r1\n"
     "ssat r6, #8, r6\nsel r6, r6, r7\nmul r6, r1, r2\nmla r6, r1, r2, r6\nsmull r6, r7, r1, r2\n"
     "smlal r6, r7, r1, r2", 10, "multiply and DSP instructions: 1 each"),
    ("two loads", "ldr r0, [r1]\nldr r1, [r2]", 3, "TRM: LDR R0,[R1]; LDR R1,[R2] normally three cycles"),
    ("load then store", "ldr r0, [r1, r2]\nstr r0, [r3, #20]", 3, "TRM: LDR R0,[R1,R2]; STR R0,[R3,#20]: three"),
    ("load then register store", "ldr r0, [r1, r2]\nstr r1, [r3, r2]", 3,
     "TRM: LDR R0,[R1,R2]; STR R1,[R3,R2]: three"),
    ("three loads", "ldr r0, [r1, r5]\nldr r1, [r2]\nldr r2, [r3, #4]", 4,
     "TRM: LDR R0,[R1,R5]; LDR R1,[R2]; LDR R2,[R3,#4]: four"),
    ("dependent loads", "ldr r0, [r4]\nldr r6, [r0]", 4, "the second address is the first's result: not pipelined"),
    ("stores", "str r0, [r4]\nstr r1, [r4, #4]\nstr r2, [r4, #8]", 3, "STR Rx,[Ry,#imm] is always one cycle"),
    ("store then load", "str r0, [r4]\nldr r6, [r4, #4]", 3, "nothing is pipelined after a store"),
    ("ldrd", "ldrd r6, r7, [r4]", 3, "LDRD: three cycles, the two words pipelined"),
    ("ldrd pair", "ldrd r6, r7, [r4]\nldrd r6, r7, [r4, #8]", 6, "LDRD is not pipelined with its neighbours"),
    ("load then ldrd", "ldr r0, [r4]\nldrd r6, r7, [r4, #8]", 5, "LDRD is not pipelined with its neighbours"),
    ("ldm", "ldm r4, {r0, r1, r2, r3}", 5, "LDM: 1 + N"),
    ("push pop", "push {r4, r5, r6, r7}\npop {r4, r5, r6, r7}", 10, "PUSH, POP: 1 + N"),
    ("address stall", "add r6, r4, #8\nldr r0, [r6]", 4,
     "an address from the data-processing instruction before: one stall cycle"),
    ("it folded", "cmp r0, r0\nit eq\nmoveq r6, #1", 2, "IT folds onto a preceding 16-bit instruction"),
    ("it not folded", "cmp.w r0, r0\nit eq\nmoveq r6, #1", 3, "IT after a 32-bit instruction: 1"),
    ("loop", "movs r6, #10\n1:\nsubs r6, #1\nbne 1b", 1 + 10 + 9 * 2 + 1,
     "B<cc> not taken 1, taken 1 + P with P = 1 (a direct branch to a 16-bit target; the model's choice in "
     "the TRM's 1..3)"),
    ("divide", "movs r6, #7\nudiv r0, r6, r0", 1 + 12, "UDIV: 2 to 12, counted as 12"),
]

EXECUTED = {"loop": 1 + 2 * 10}  # instructions the loop executes; the others run each listed line once


def _window(tmp_path, name: str, body: str):
    src = tmp_path / f"{name.replace(' ', '_')}.S"
    src.write_text(START + "\n".join("    " + line if not line.endswith(":") else line for line in body.splitlines())
                   + "\n    bx lr\n")
    elf = src.with_suffix(".elf")
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-nostartfiles",
                    "-Wl,-Ttext=0x0", "-Wl,-e,reset", str(src), "-o", str(elf)], check=True, capture_output=True)
    qemu = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "null",
            "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)]
    windows, done = estimate_cycles(elf, qemu, "snippet", timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(windows) == 1
    return windows[0].total


@pytest.fixture(scope="module")
def empty(tmp_path_factory):
    return _window(tmp_path_factory.mktemp("empty"), "empty", "")


@pytest.mark.parametrize("name,body,cycles,why", SNIPPETS, ids=[s[0] for s in SNIPPETS])
def test_snippet_cycles_match_the_trm(tmp_path, empty, name, body, cycles, why):
    window = _window(tmp_path, name, body)
    executed = EXECUTED.get(name, sum(1 for line in body.splitlines() if not line.endswith(":")))
    assert window.instructions - empty.instructions == executed  # the stream QEMU reports is complete
    assert window.cycles - empty.cycles == cycles, why
    assert window.beats == window.instructions  # no Helium instruction here


def test_return_and_call_costs(empty):
    # the empty window is `bx lr` back to a 16-bit instruction: 1 + P with P = 2 (a register branch)
    assert (empty.instructions, empty.cycles) == (1, 3)
