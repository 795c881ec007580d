"""The Cortex-M55 beats view on Helium instructions as objdump decodes them from an assembled object: a
contiguous vector load, store or arithmetic instruction two beats, a gather or scatter one beat per lane
(at least two), everything else one."""
import shutil
import subprocess

import pytest

from mobilenet_tiny.cycles import cortex_m4 as m4
from mobilenet_tiny.cycles.decode import disassemble

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-as") is None, reason="needs binutils-arm-none-eabi")

CASES = [  # (instruction, beats on the M55)
    ("vldrb.u8 q0, [r0, q1]", 16),          # byte gather into 16 lanes
    ("vldrb.s16 q0, [r0, q1]", 8),          # bytes gathered into 8 halfword lanes
    ("vldrh.u32 q2, [r1, q3, uxtw #1]", 4),
    ("vldrw.u32 q0, [q1, #8]", 4),          # vector of word addresses
    ("vldrw.u32 q0, [q1, #8]!", 4),
    ("vldrd.u64 q0, [r0, q1]", 2),
    ("vstrb.8 q0, [r0, q1]", 16),           # scatter
    ("vstrw.32 q0, [q1, #4]", 4),
    ("vldrb.u8 q0, [r0]", 2),               # contiguous: two 64-bit beats
    ("vldrb.s16 q0, [r0], #8", 2),
    ("vstrb.8 q0, [r0, #16]", 2),
    ("vmladava.s8 r0, q0, q1", 2),
    ("vmla.u32 q0, q1, r2", 2),
    ("smlad r0, r1, r2, r0", 1),
    ("ldr r0, [r1, #4]", 1),
]


def test_beats_per_instruction(tmp_path):
    source = tmp_path / "mve.s"
    source.write_text(".syntax unified\n.thumb\n" + "".join(f"{text}\n" for text, _ in CASES))
    obj = tmp_path / "mve.o"
    subprocess.run(["arm-none-eabi-as", "-march=armv8.1-m.main+mve", str(source), "-o", str(obj)], check=True)
    decoded = sorted(disassemble(obj).values(), key=lambda i: i.vaddr)
    assert len(decoded) == len(CASES)
    got = [(insn.text, m4.beats(m4.classify(insn))) for insn in decoded]
    assert [b for _, b in got] == [b for _, b in CASES], got
