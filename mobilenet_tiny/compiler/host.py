"""Run a compiled model on the host: the generated C and the kernels built with the system gcc, driven
through pipes. It answers the same `run(int8 input) -> int8 output` call as the host interpreters, so one
comparison routine checks every runtime.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..errors import UserError
from . import KERNELS_DIR, compile_model

HOST_CFLAGS = ("-O2", "-Wall", "-Wextra", "-Werror", "-std=c99")

_RUNNER = r"""
/* Host driver: reads whole inputs from stdin, writes whole outputs to stdout, until EOF. With -DMTK_TRACE
   every layer's output goes to stdout first, each as [int32 step][int32 offset][uint32 bytes][bytes]:
   offset -1 for a step's whole output, else a band of a patched stage's step at that byte offset. */
#include <stdio.h>
#include "{name}.h"

#ifdef MTK_TRACE
static void trace_record(int step, int32_t offset, const int8_t *data, uint32_t bytes)
{{
    int32_t header[3];
    header[0] = step;
    header[1] = offset;
    header[2] = (int32_t)bytes;
    fwrite(header, sizeof header, 1, stdout);
    fwrite(data, 1, bytes, stdout);
}}

void mtk_trace_step(int step, const int8_t *data, uint32_t bytes)
{{
    trace_record(step, -1, data, bytes);
}}

void mtk_trace_rows(int step, uint32_t offset, const int8_t *data, uint32_t bytes)
{{
    trace_record(step, (int32_t)offset, data, bytes);
}}
#endif

int main(void)
{{
    static int8_t input[{NAME}_INPUT_BYTES];
    static int8_t output[{NAME}_OUTPUT_BYTES];
    while (fread(input, 1, sizeof input, stdin) == sizeof input) {{
        if ({name}_invoke(input, output) != 0) {{
            return 2;
        }}
        if (fwrite(output, 1, sizeof output, stdout) != sizeof output) {{
            return 3;
        }}
    }}
    return 0;
}}
"""


def kernel_sources() -> list[Path]:
    return sorted((KERNELS_DIR / "src").glob("*.c"))


def kernel_archive(extra_flags=(), cc: str = "gcc") -> Path:
    """The kernels built for the host with these flags, once per kernel-source hash (a static library in
    ~/.cache/mobilenet-tiny/host-kernels/): every model of a sweep links the same objects."""
    import hashlib
    import os

    from .scratch import cache_dir, kernel_sources_hash

    flags = [*HOST_CFLAGS, *extra_flags]
    key = hashlib.sha256(" ".join([cc, *flags, kernel_sources_hash()]).encode()).hexdigest()[:20]
    lib = cache_dir().parent / "host-kernels" / key / "libmtk.a"
    if lib.is_file():
        return lib
    lib.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="build-", dir=lib.parent) as tmp:
        objects = []
        for src in kernel_sources():
            obj = Path(tmp) / (src.stem + ".o")
            cmd = [cc, *flags, "-I", str(KERNELS_DIR / "include"), "-c", str(src), "-o", str(obj)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"host build failed ({' '.join(cmd)}):\n{proc.stderr}")
            objects.append(str(obj))
        subprocess.run(["ar", "rcs", str(Path(tmp) / lib.name), *objects], check=True, capture_output=True)
        os.replace(Path(tmp) / lib.name, lib)
    return lib


def build_host_executable(source_dir, name: str, out_path, extra_flags=(), cc: str = "gcc") -> Path:
    """Compile <source_dir>/<name>.c + a stdin/stdout driver, linked with the kernels, into one executable."""
    source_dir, out_path = Path(source_dir), Path(out_path)
    runner = source_dir / f"{name}_host_runner.c"
    runner.write_text(_RUNNER.format(name=name, NAME=name.upper()))
    cmd = [cc, *HOST_CFLAGS, *extra_flags, "-I", str(KERNELS_DIR / "include"), "-I", str(source_dir),
           str(source_dir / f"{name}.c"), str(runner), str(kernel_archive(extra_flags, cc)), "-o", str(out_path),
           "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"host build failed ({' '.join(cmd)}):\n{proc.stderr}")
    return out_path


class CompiledHostInterpreter:
    """Compile a .tflite with compile_model, build it with gcc, and run inputs through it."""

    def __init__(self, tflite_bytes: bytes, extra_flags=(), workdir=None, name: str = "model",
                 memory: str = "balanced"):
        if shutil.which("gcc") is None:
            raise UserError("gcc not found: the host build of the compiled runtime needs the system C compiler")
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="mtk-host-")
        self.workdir = Path(workdir or self._tmp.name)
        self.result = compile_model(tflite_bytes, self.workdir, name, memory=memory)
        if "-DMTK_TRACE" in extra_flags:
            extra_flags = [*extra_flags, "-DMTK_TRACE_BANDS"]
        self.executable = build_host_executable(self.workdir, name, self.workdir / f"{name}_host", extra_flags)
        self.input_shape = self.result.input_shape

    def run_many(self, inputs: np.ndarray) -> np.ndarray:
        """inputs: (N, H, W, C) or (N, ...) int8 -> (N, outputs) int8, one process for the whole batch."""
        x = np.ascontiguousarray(inputs, dtype=np.int8).reshape(len(inputs), -1)
        proc = subprocess.run([str(self.executable)], input=x.tobytes(), capture_output=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"compiled model exited with {proc.returncode}: {proc.stderr.decode()[:500]}")
        return np.frombuffer(proc.stdout, np.int8).reshape(len(inputs), self.result.output_size)

    def trace(self, x: np.ndarray) -> tuple[dict[int, np.ndarray], np.ndarray]:
        """Per-step outputs {step: int8 bytes} and the final output for one input (needs a -DMTK_TRACE build);
        a patched stage's steps are put together from their bands."""
        proc = subprocess.run([str(self.executable)], input=np.ascontiguousarray(x, np.int8).tobytes(),
                              capture_output=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"compiled model exited with {proc.returncode}")
        data, pos, steps, bands = proc.stdout, 0, {}, {}
        while len(data) - pos > self.result.output_size:
            step, offset, size = (int(v) for v in np.frombuffer(data[pos:pos + 12], np.int32))
            values = np.frombuffer(data[pos + 12:pos + 12 + size], np.int8)
            if offset < 0 and size:
                steps[step] = values
            elif offset >= 0:
                bands.setdefault(step, []).append((offset, values))
            pos += 12 + size
        for step, pieces in bands.items():
            whole = np.zeros(max(o + len(v) for o, v in pieces), np.int8)
            for o, v in pieces:
                whole[o:o + len(v)] = v
            steps.setdefault(step, whole)
        return steps, np.frombuffer(data[pos:], np.int8)

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.run_many(np.asarray(x)[None])[0]

    def close(self):
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
