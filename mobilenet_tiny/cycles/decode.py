"""What each executed address holds: GNU objdump's disassembly of the ELF (arm-none-eabi-objdump knows every
M-profile instruction, Helium included), parsed into mnemonic, condition and operands. The timing model
needs only this much: the instruction's class, its registers and its width."""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import UserError

CONDITIONS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le")
REGISTER_ALIASES = {"sb": "r9", "sl": "r10", "fp": "r11", "ip": "r12", "r13": "sp", "r14": "lr", "r15": "pc"}
_LINE = re.compile(r"^\s*([0-9a-f]+):\s+((?:[0-9a-f]{4,8} ?)+)\s+(\S+)(?:\s+(.*))?$")


@dataclass(frozen=True)
class Instruction:
    vaddr: int
    size: int           # bytes: 2 or 4
    hex: str            # the bytes as stored (little-endian halfwords), as the plugin reports them
    mnemonic: str       # as objdump prints it, width suffix (.w/.n) removed, e.g. "ldrd", "bne", "smlad"
    operands: str       # the operand text, comments removed

    @property
    def text(self) -> str:
        return f"{self.mnemonic} {self.operands}".strip()


def _objdump() -> str:
    path = shutil.which("arm-none-eabi-objdump")
    if path is None:
        raise UserError("arm-none-eabi-objdump not found (Debian: apt-get install binutils-arm-none-eabi)")
    return path


@lru_cache(maxsize=8)
def _disassemble_cached(path: str, mtime_ns: int, size: int) -> dict[int, Instruction]:
    text = subprocess.run([_objdump(), "-d", path], capture_output=True,
                          text=True, check=True).stdout
    table: dict[int, Instruction] = {}
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        mnemonic = m.group(3)
        if mnemonic.startswith("."):  # .word / .short: literal data, never executed
            continue
        words = m.group(2).split()
        size = sum(len(w) for w in words) // 2
        # objdump shows each halfword as a number; memory holds it little-endian
        stored = "".join(bytes.fromhex(w)[::-1].hex() for w in words)
        operands = (m.group(4) or "").split("@")[0].split(";")[0].strip()
        operands = re.sub(r"\s*<[^>]*>\s*$", "", operands)  # the branch target's symbol
        if mnemonic.endswith((".w", ".n")):
            mnemonic = mnemonic[:-2]
        table[int(m.group(1), 16)] = Instruction(int(m.group(1), 16), size, stored, mnemonic, operands)
    return table


def disassemble(elf: Path) -> dict[int, Instruction]:
    """Address → instruction for every instruction objdump finds in the ELF's code sections."""
    st = Path(elf).stat()
    return _disassemble_cached(str(Path(elf).resolve()), st.st_mtime_ns, st.st_size)


def split_condition(mnemonic: str, known) -> tuple[str, str]:
    """(base mnemonic, condition or "") for a mnemonic whose base is in `known` (a set, or a callable)."""
    test = known if callable(known) else known.__contains__
    base = mnemonic.split(".")[0]
    if test(base):
        return base, ""
    if len(base) > 2 and base[-2:] in CONDITIONS and test(base[:-2]):
        return base[:-2], base[-2:]
    return base, ""


def registers(text: str) -> list[str]:
    """The core registers named in an operand text, in order (aliases normalised, ranges expanded)."""
    out = []
    for a, b in re.findall(r"\b(r\d+|sp|lr|pc|ip|fp|sl|sb)\b(?:\s*-\s*(r\d+))?", text):
        a = REGISTER_ALIASES.get(a, a)
        if b and a.startswith("r"):
            out += [f"r{i}" for i in range(int(a[1:]), int(b[1:]) + 1)]
        else:
            out.append(a)
    return out


def register_list(operands: str) -> list[str]:
    """The registers of a {…} list (LDM/STM/PUSH/POP, VLDM/VPUSH count their words separately)."""
    m = re.search(r"\{([^}]*)\}", operands)
    return registers(m.group(1)) if m else []


def fp_list_words(operands: str) -> int:
    """Words moved by a VLDM/VSTM/VPUSH/VPOP list: one per S register, two per D register."""
    m = re.search(r"\{([^}]*)\}", operands)
    if not m:
        return 1
    words = 0
    for a, lo, b, hi in re.findall(r"([sd])(\d+)(?:\s*-\s*([sd])(\d+))?", m.group(1)):
        count = int(hi) - int(lo) + 1 if hi else 1
        words += count * (2 if a == "d" else 1)
    return max(words, 1)


def address_registers(operands: str) -> list[str]:
    """Registers a load/store uses to form its address: those inside [...] (base, offset)."""
    m = re.search(r"\[([^\]]*)\]", operands)
    return registers(m.group(1)) if m else []


def has_register_offset(operands: str) -> bool:
    m = re.search(r"\[([^\]]*)\]", operands)
    if not m:
        return False
    return len(registers(m.group(1))) > 1 or bool(re.search(r"\],\s*-?(r\d+|ip|fp|sl|sb)", operands))
