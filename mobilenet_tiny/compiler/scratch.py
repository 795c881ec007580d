"""Scratch sizes (and whether an output may overwrite its input) from the kernels' own C. A kernel that
needs working memory defines <kernel>_scratch_bytes(const <descriptor> *) beside it
(firmware/lib/mtk_kernels), and that function is the one formula: the compiler asks it instead of repeating
it in Python. A kernel that can run in place defines <kernel>_in_place_ok() the same way.

It does so on the host, once per set of descriptors: a probe program holding the steps' descriptors (their
array pointers NULL: the functions read only shapes) calls each function and prints the answers. The probe
links against the kernel library built once per kernel-source hash, and its answers are cached under the
hash of its own source, so compiling the same model again runs no C compiler at all. The functions must
not depend on the build's path (DSP or portable) or pointer width: the answer the host gets is the one the
target gets, which -DMTK_POISON_FREED builds of the generated code check on the device.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..c_source import c_struct
from ..errors import UserError
from ..fileio import atomic_write

KERNELS_DIR = Path(__file__).resolve().parents[2] / "firmware" / "lib" / "mtk_kernels"
_CFLAGS = ("-std=c99", "-O1")


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "mobilenet-tiny" / "scratch"


def host_cc() -> str:
    cc = shutil.which(os.environ.get("CC") or "gcc") or shutil.which("cc")
    if cc is None:
        raise UserError("the compiler evaluates the kernels' scratch sizes with the host C compiler: install gcc "
                        "(or set CC)")
    return cc


def kernel_sources_hash() -> str:
    digest = hashlib.sha256()
    for f in sorted(KERNELS_DIR.rglob("*")):
        if f.is_file() and f.suffix in (".c", ".h"):
            digest.update(str(f.relative_to(KERNELS_DIR)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def _questions(steps) -> list[tuple[int, str]]:
    """(step index, kernel function) for every fact the kernels are asked: scratch sizes, then in-place."""
    return ([(i, s.entry.scratch_function) for i, s in enumerate(steps) if s.takes_scratch]
            + [(i, s.entry.in_place_function) for i, s in enumerate(steps) if s.entry.in_place_function])


def probe_source(steps) -> str:
    """C that prints, one per line, each question's answer: <function>(&descriptor of the step)."""
    questions = _questions(steps)
    lines = ["#include <stdio.h>", "", '#include "mtk_kernels.h"', ""]
    for i in sorted({i for i, _ in questions}):
        s = steps[i]
        arrays = {f"{s.layer}_{a.suffix}" for a in s.arrays}
        fields = [(k, "NULL" if isinstance(v, str) and v in arrays else v) for k, v in s.fields]
        lines.append(c_struct(s.params_type, f"step{i}", fields))
    lines += ["int main(void)", "{"]
    for i, function in questions:
        lines.append(f'    printf("%lu\\n", (unsigned long){function}(&step{i}));')
    lines += ["    return 0;", "}", ""]
    return "\n".join(lines)


def _kernel_library(cc: str, kernels: str) -> Path:
    """libmtk_host.a: the kernels built for the host once per kernel-source hash."""
    lib = cache_dir() / f"kernels-{kernels}" / "libmtk_host.a"
    if lib.is_file():
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="build-", dir=lib.parent) as tmp:
        objects = []
        for src in sorted((KERNELS_DIR / "src").glob("*.c")):
            obj = Path(tmp) / (src.stem + ".o")
            _run([cc, *_CFLAGS, "-I", str(KERNELS_DIR / "include"), "-c", str(src), "-o", str(obj)])
            objects.append(str(obj))
        _run(["ar", "rcs", str(Path(tmp) / lib.name), *objects])
        os.replace(Path(tmp) / lib.name, lib)
    return lib


def _run(cmd: list[str]) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"scratch-size probe: {' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    return proc.stdout


def evaluate_kernel_facts(steps) -> tuple[list[int], list[bool]]:
    """Per step: the bytes of scratch its kernel asks for (0 for kernels without a scratch function), and
    whether its output may overwrite its input (False for kernels without an in-place function)."""
    sizes, in_place = [0] * len(steps), [False] * len(steps)
    questions = _questions(steps)
    if not questions:
        return sizes, in_place
    source = probe_source(steps)
    kernels = kernel_sources_hash()
    answers = cache_dir() / f"kernels-{kernels}" / f"probe-{hashlib.sha256(source.encode()).hexdigest()[:24]}.json"
    if answers.is_file():
        values = json.loads(answers.read_text())
    else:
        cc = host_cc()
        lib = _kernel_library(cc, kernels)
        with tempfile.TemporaryDirectory(prefix="mtk-scratch-") as tmp:
            (Path(tmp) / "probe.c").write_text(source)
            exe = Path(tmp) / "probe"
            _run([cc, *_CFLAGS, "-I", str(KERNELS_DIR / "include"), str(Path(tmp) / "probe.c"), str(lib),
                  "-o", str(exe)])
            values = [int(v) for v in _run([str(exe)]).split()]
        atomic_write(answers, json.dumps(values))
    if len(values) != len(questions):
        raise RuntimeError(f"kernel probe answered {len(values)} of {len(questions)} questions")
    for (i, function), v in zip(questions, values):
        if function.endswith("_in_place_ok"):
            in_place[i] = bool(v)
        else:
            sizes[i] = v
    return sizes, in_place


def evaluate_scratch_bytes(steps) -> list[int]:
    """Bytes of scratch each step's kernel asks for (0 for kernels without a scratch function)."""
    return evaluate_kernel_facts(steps)[0]
