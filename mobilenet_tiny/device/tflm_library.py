"""TFLM for the firmware: a tree made by `mobilenet-tiny tflm-tree` (or $MTK_TFLM_DIR) compiled once per core,
kernel set and tree into a static library in the cache, which every model's firmware for that core links.

A first build of TFLM's ~200–320 sources takes minutes on two cores; models and boards of one core share
the library, keyed by the tree's content, the compiler and the flags. The sources and defines are those of
TFLM's own project_generation Makefile (tensorflow/lite/micro/tools/project_generation/Makefile): every
.cc/.c under tensorflow/ and signal/, plus CMSIS-NN's Source/ for the CMSIS-NN tree (that Makefile leaves
it to the user), `TF_LITE_STATIC_MEMORY`, and for CMSIS-NN `CMSIS_NN PROJECT_GENERATION
TF_LITE_MCU_DEBUG_LOG`; on top of them release flags: `-O2` like the rest of the firmware and `NDEBUG`
(without it TFLM's reference kernels keep their debug checks, 5x the instructions). Each board's own
toolchain compiles it: arm-none-eabi-gcc for the Cortex-M boards, riscv64-unknown-elf-gcc with picolibc for
qemu_rv32 (reference kernels only: CMSIS-NN is Arm code), whose missing C++ headers are libstdc++'s of the
same GCC release from the Arm package (cxx_header_flags).
"""
from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError, one_line
from ..tflm_tree import KERNEL_SETS, TFLM_COMMIT, TREE_FOLDERS, _locked, cache_root, default_tree_dir, read_tree_set
from .board import Board
from .platformio_env import FIRMWARE_DIR, require_toolchain

TFLM_DIR_ENV = "MTK_TFLM_DIR"
LIBRARY_TIMEOUT_S = 3600  # a whole first build; one file gets FILE_TIMEOUT_S
FILE_TIMEOUT_S = 600
LIBRARY_FORMAT = 2  # bump when the way a library is built changes, so old ones are not reused

# TFLM's project_generation Makefile, COMMON_FLAGS / CXXFLAGS / CCFLAGS, and its cmsis_nn additions.
COMMON_FLAGS = ("-fno-unwind-tables", "-ffunction-sections", "-fdata-sections", "-fmessage-length=0")
CMSIS_NN_FLAGS = ("-mthumb", "-mlittle-endian", "-funsigned-char", "-fomit-frame-pointer")
CXX_FLAGS = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
C_FLAGS = ("-std=c17",)
RELEASE_FLAGS = ("-O2",)
INCLUDES = ("", "third_party/gemmlowp", "third_party/flatbuffers/include", "third_party/kissfft",
            "third_party/kissfft/tools", "third_party/ruy")
CMSIS_NN_INCLUDES = ("third_party/cmsis", "third_party/cmsis_nn", "third_party/cmsis_nn/Include",
                     "third_party/cmsis/CMSIS/Core/Include")


def defines(kernels: str) -> list[str]:
    """Preprocessor definitions for TFLM and for every file that includes its headers (they change struct
    layouts, e.g. TF_LITE_STATIC_MEMORY, and which kernel registrations are inline, e.g. CMSIS_NN)."""
    names = ["TF_LITE_STATIC_MEMORY", "NDEBUG"]
    if kernels == "cmsis-nn":
        names += ["CMSIS_NN", "PROJECT_GENERATION", "TF_LITE_MCU_DEBUG_LOG", "MTK_TFLM_CMSIS_NN"]
    else:
        names += ["MTK_TFLM_REFERENCE"]
    return names


@dataclass(frozen=True)
class TflmTree:
    path: Path
    kernels: str       # "reference" or "cmsis-nn"
    origin: str        # how it was found, for messages

    def include_dirs(self) -> list[Path]:
        dirs = INCLUDES + (CMSIS_NN_INCLUDES if self.kernels == "cmsis-nn" else ())
        return [self.path / d for d in dirs if (self.path / d).is_dir()]

    def sources(self) -> list[Path]:
        """What TFLM's project Makefile compiles (tensorflow/, signal/), plus CMSIS-NN's own sources."""
        roots = [self.path / "tensorflow", self.path / "signal"]
        if self.kernels == "cmsis-nn":
            roots.append(self.path / "third_party" / "cmsis_nn" / "Source")
        files = [p for root in roots if root.is_dir() for p in root.rglob("*") if p.suffix in (".cc", ".c")]
        return sorted(p for p in files if not p.name.endswith("_test.cc"))

    def source_filter(self) -> list[str]:
        """The same sources as a PlatformIO srcFilter, for boards whose toolchain PlatformIO brings."""
        dirs = ["tensorflow/", "signal/"] + (["third_party/cmsis_nn/Source/"] if self.kernels == "cmsis-nn" else [])
        return ["-<*>", *[f"+<{d}>" for d in dirs], "-<**/*_test.cc>"]


def is_tree(path: Path) -> bool:
    return (path / "tensorflow" / "lite" / "micro" / "micro_interpreter.h").is_file()


def tree_kernels(path: Path) -> str:
    """A create_tflm_tree.py tree made with OPTIMIZED_KERNEL_DIR=cmsis_nn carries the CMSIS-NN kernels."""
    return "cmsis-nn" if (path / "tensorflow" / "lite" / "micro" / "kernels" / "cmsis_nn").is_dir() else "reference"


def env_tflm_dir() -> Path | None:
    value = os.environ.get(TFLM_DIR_ENV)
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_dir():
        raise UserError(f"{TFLM_DIR_ENV}={value} is not a directory")
    return path


def is_library_folder(path: Path) -> bool:
    """A PlatformIO/Arduino library (e.g. a checkout of the registry's TFLM port): used as it is."""
    return (path / "library.json").is_file() or (path / "library.properties").is_file()


def find_tree(kernels: str) -> TflmTree:
    """The TFLM tree with `kernels`: $MTK_TFLM_DIR (a tree, or a folder of trees made by `tflm-tree`), else
    the trees `tflm-tree` made in the cache for the pinned commit."""
    if kernels not in KERNEL_SETS:
        raise UserError(f"unknown TFLM kernels {kernels!r}: choose one of {', '.join(KERNEL_SETS)}")
    env = env_tflm_dir()
    if env is not None:
        if read_tree_set(env):
            tree, origin = env / TREE_FOLDERS[kernels], f"{TFLM_DIR_ENV}={env}"
        elif is_tree(env):
            have = tree_kernels(env)
            if have != kernels:
                raise UserError(f"{TFLM_DIR_ENV}={env} is a TFLM tree with {have} kernels, not {kernels}: point it "
                                "at the other tree, or at the folder `mobilenet-tiny tflm-tree` made")
            return TflmTree(env, kernels, f"{TFLM_DIR_ENV}={env}")
        else:
            raise UserError(f"{TFLM_DIR_ENV}={env} is neither a PlatformIO/Arduino library nor a TFLM source tree "
                            "(no tensorflow/lite/micro/micro_interpreter.h)")
    else:
        root = default_tree_dir()
        if read_tree_set(root) is None:
            raise UserError(f"no TFLM tree: run `mobilenet-tiny tflm-tree` (makes tflite-micro {TFLM_COMMIT[:7]} "
                            f"in {root}) or set {TFLM_DIR_ENV} to a TFLM tree")
        tree, origin = root / TREE_FOLDERS[kernels], f"the cache ({root})"
    if not is_tree(tree):
        raise UserError(f"{origin} has no {kernels} TFLM tree ({tree}): run `mobilenet-tiny tflm-tree --force`")
    return TflmTree(tree, kernels, origin)


def tree_unavailable_reason(kernels: str) -> str | None:
    """None when find_tree(kernels) would succeed, else why not (one line, for a test's skip reason)."""
    try:
        find_tree(kernels)
    except UserError as e:
        return str(e)
    return None


def cpu_flags(board: Board) -> list[str]:
    """The CPU flags of a QEMU board, from its board definition, as the dev-platform's builder forms them:
    -mcpu/-mthumb/-mfloat-abi/-mfpu on Arm; -march/-mabi and picolibc on RISC-V (-misa-spec=2.2 keeps the
    CSR instructions in the base ISA, for which the multilib set has rv32imac)."""
    spec = json.loads((FIRMWARE_DIR / "platforms" / "qemu" / "boards" / f"{board.env}.json").read_text())["build"]
    if board.arch == "riscv32":
        return [f"-march={spec['march']}", f"-mabi={spec['mabi']}", "-misa-spec=2.2", "--specs=picolibc.specs"]
    flags = [f"-mcpu={spec['cpu']}", "-mthumb", f"-mfloat-abi={spec.get('float_abi', 'hard')}"]
    if spec.get("fpu", "auto") != "auto":
        flags.append(f"-mfpu={spec['fpu']}")
    return flags


def core_name(cpu: list[str]) -> str:
    """cortex-m4, rv32imac: the core a library is built for (its cache folder, the log)."""
    return cpu[0].split("=", 1)[1]


# Debian's riscv64-unknown-elf toolchain has picolibc and no C++ library, not even its headers. TFLM uses
# only header-only parts of libstdc++ (<cstdint> <algorithm> <cmath> <limits> <type_traits> <new> <utility>
# <cstring>; no exceptions, RTTI, threads or allocation), so RISC-V compiles against the headers of the same
# GCC release (12.2) from the Arm package's newlib build (picolibc is a newlib fork). What is target-specific
# in them is the multilib's bits/ folder, checked for these flags: v7-m nofp's c++config.h is that of every
# Arm multilib with atomics (rv32imac has them: _GLIBCXX_ATOMIC_BUILTINS, the atomic lock policy), without
# TLS; gthr-default.h is gthr-single (no threads); atomic_word.h is the generic int with __atomic fences;
# os_defines.h is newlib's (Cygwin settings only). Two files test Arm macros: cxxabi_tweaks.h takes the 32-bit
# ARM EABI guard and this-returning constructors only under __ARM_EABI__, else the generic 64-bit guard of
# RISC-V's ABI (it serves <cxxabi.h> alone, which TFLM does not include; with -fno-threadsafe-statics GCC
# emits guard code itself, from its own target description); cpu_defines.h makes numeric_limits<>::traps
# true without __ARM_ARCH_EXT_IDIV__, libstdc++'s generic default (TFLM never reads it). picolibc.specs puts
# picolibc's C headers first in the search list, where libstdc++'s <cstdlib> and <cmath> find them with a
# plain #include, as they would newlib's. Nothing of libstdc++ is linked: the hooks TFLM's objects name are
# in firmware/src/boards/qemu_riscv/runtime_hooks.c.
CXX_HEADERS_DONOR = ("arm-none-eabi-g++", "-mthumb", "-march=armv7-m", "-mfloat-abi=soft")


@functools.lru_cache(maxsize=None)
def cxx_header_flags(board: Board) -> tuple[str, ...]:
    """-isystem flags for the C++ standard headers of a board whose toolchain has none (RISC-V), else ()."""
    if board.arch != "riscv32":
        return ()
    cxx = board.toolchain_prefix + "g++"
    for tool in (cxx, CXX_HEADERS_DONOR[0]):
        if shutil.which(tool) is None:
            raise UserError(f"{tool} not found: TFLM on {board.env} uses the C++ headers of arm-none-eabi-g++ "
                            "(install gcc-riscv64-unknown-elf, picolibc-riscv64-unknown-elf and "
                            "libstdc++-arm-none-eabi-newlib; tools/setup.sh does)")
    versions = [_compiler_version(tool, "-dumpfullversion").rsplit(".", 1)[0]  # 12.2.0 and 12.2.1: 12.2
                for tool in (cxx, CXX_HEADERS_DONOR[0])]
    if versions[0] != versions[1]:
        raise UserError(f"TFLM on {board.env} borrows libstdc++'s headers from {CXX_HEADERS_DONOR[0]} "
                        f"{versions[1]}, which must be the release of {cxx} ({versions[0]})")
    done = subprocess.run([*CXX_HEADERS_DONOR, "-E", "-x", "c++", "-v", os.devnull, "-o", os.devnull],
                          capture_output=True, text=True, check=True)
    search = done.stderr.split("#include <...> search starts here:", 1)[-1].split("End of search list.", 1)[0]
    # the headers and the multilib's bits/ (libstdc++'s own order); not backward/ nor the C library's
    dirs = [os.path.realpath(d) for d in search.split() if "/c++/" in d and not d.endswith("/backward")]
    if len(dirs) != 2 or not Path(dirs[0], "cstdint").is_file():
        raise UserError(f"{CXX_HEADERS_DONOR[0]} has no libstdc++ headers (install libstdc++-arm-none-eabi-newlib)")
    return tuple(flag for d in dirs for flag in ("-isystem", d))


@dataclass(frozen=True)
class TflmLibrary:
    tree: TflmTree
    archive: Path          # libtflm.a
    log: Path              # the compiler output of the build that made it
    seconds: float         # how long that build took
    built_now: bool        # False: reused from the cache
    cxx_headers: tuple[str, ...] = ()  # -isystem flags of the C++ headers (cxx_header_flags)

    def consumer_flags(self) -> list[str]:
        """Build flags for the firmware that links the library: TFLM's include paths and defines, and the
        archive itself."""
        return ([*self.cxx_headers, *[f"-I{d}" for d in self.tree.include_dirs()]]
                + [f"-D{d}" for d in defines(self.tree.kernels)] + [f"-L{self.archive.parent}", "-ltflm"])


def _tree_digest(tree: TflmTree) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in tree.path.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(tree.path)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _compiler_version(cc: str, flag: str = "--version") -> str:
    return subprocess.run([cc, flag], capture_output=True, text=True, check=True).stdout.splitlines()[0]


def core_workarounds(cpu: list[str]) -> list[str]:
    """Flags one core needs for TFLM with this toolchain. Helium cores (Cortex-M55/M85): GCC 12.2 if-converts
    a float conversion into an IT block (`vcvtne.f32.s32`, resize_nearest_neighbor.cc) that binutils 2.40
    reads as an MVE instruction and rejects; without the late if-conversion pass it emits a branch."""
    return ["-fno-if-conversion2"] if any(f in ("-mcpu=cortex-m55", "-mcpu=cortex-m85") for f in cpu) else []


@dataclass(frozen=True)
class Toolchain:
    """How TFLM's files are compiled for one core."""
    prefix: str                  # arm-none-eabi- or riscv64-unknown-elf-
    cpu: list[str]               # cpu_flags
    cxx_headers: tuple[str, ...]  # cxx_header_flags

    def command(self, tree: TflmTree, source: Path, obj: Path, pch: Path | None = None) -> list[str]:
        cxx = source.suffix in (".cc", ".h")
        extra = CMSIS_NN_FLAGS if tree.kernels == "cmsis-nn" else ()
        cmd = [self.prefix + ("g++" if cxx else "gcc"), *self.cpu, *core_workarounds(self.cpu), *RELEASE_FLAGS,
               *COMMON_FLAGS, *extra, *(CXX_FLAGS if cxx else C_FLAGS), *(self.cxx_headers if cxx else ()),
               *[f"-D{d}" for d in defines(tree.kernels)], *[f"-I{d}" for d in tree.include_dirs()]]
        if source.suffix == ".h":  # the precompiled header itself
            return [*cmd, "-x", "c++-header", str(source), "-o", str(obj)]
        if cxx and pch is not None:
            cmd += ["-include", str(pch), "-Winvalid-pch"]
        return [*cmd, "-c", str(source), "-o", str(obj)]


def check_kernels(board: Board, kernels: str):
    """CMSIS-NN's kernels are Arm's (Cortex-M DSP and Helium code): a RISC-V board has TFLM's reference ones."""
    if kernels == "cmsis-nn" and board.arch != "arm":
        raise UserError(f"tflm-cmsis-nn: CMSIS-NN is Arm-only; on {board.env} TFLM runs its reference kernels "
                        "(--runtime tflm)")


# Nearly every TFLM C++ file includes the flatbuffer schema (schema_generated.h, ~1 MB of generated C++):
# parsing it is 1.7 s of a file's 2.2 s here. It is precompiled once per library build (GCC PCH, given to
# every C++ file with -include), which leaves the generated code the same and makes a first build ~3x faster.
PCH_HEADER = "tensorflow/lite/schema/schema_generated.h"


_ERROR_LINE = re.compile(r"(?:fatal )?error:|undefined reference")


def first_error_line(output: str) -> str | None:
    """The first compiler or linker error line of a build's output (not a line that merely names a file
    with "error" in it, such as micro_error_reporter.o)."""
    for line in output.splitlines():
        if _ERROR_LINE.search(line):
            return line.strip()
    return None


def build_library(board: Board, tree: TflmTree, log=print, jobs: int | None = None) -> TflmLibrary:
    """libtflm.a of `tree` for `board`'s core, from the cache when this tree, compiler and flags were built
    before; otherwise compiled now, in parallel, with the log kept beside the archive."""
    check_kernels(board, tree.kernels)
    prefix = board.toolchain_prefix
    require_toolchain(prefix, ("gcc", "g++", "gcc-ar"))
    cpu, cxx_headers = cpu_flags(board), cxx_header_flags(board)
    sources = tree.sources()
    if not sources:
        raise UserError(f"TFLM tree {tree.path} has no sources under tensorflow/")
    toolchain = Toolchain(prefix, cpu, cxx_headers)
    key_text = json.dumps({"format": LIBRARY_FORMAT, "tree": _tree_digest(tree), "kernels": tree.kernels,
                           "cc": _compiler_version(prefix + "gcc"),
                           **({"cxx_headers": _compiler_version(CXX_HEADERS_DONOR[0])} if cxx_headers else {}),
                           "flags": toolchain.command(tree, Path("x.cc"), Path("x.o"))[1:-4]
                           + list(C_FLAGS)}, sort_keys=True)
    key = hashlib.sha256(key_text.encode()).hexdigest()[:16]
    lib_dir = cache_root() / "tflm" / "lib" / f"{core_name(cpu)}-{tree.kernels}-{key}"
    archive, log_path, info_path = lib_dir / "libtflm.a", lib_dir / "build.log", lib_dir / "build.json"
    with _locked(lib_dir.parent / f".{lib_dir.name}.lock"):
        if archive.is_file() and info_path.is_file():
            info = json.loads(info_path.read_text())
            return TflmLibrary(tree, archive, log_path, info["seconds"], False, cxx_headers)
        return _compile_library(tree, sources, toolchain, lib_dir, key_text, log, jobs or os.cpu_count() or 1)


def _compile_library(tree: TflmTree, sources: list[Path], toolchain: Toolchain, lib_dir: Path, key_text: str, log,
                     jobs: int) -> TflmLibrary:
    lib_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{lib_dir.name}-", dir=lib_dir.parent))
    failed_log = lib_dir.parent / f"{lib_dir.name}.failed.log"
    log(f"compiling TFLM ({tree.kernels} kernels, {core_name(toolchain.cpu)}) from {tree.origin}: "
        f"{len(sources)} files, {jobs} jobs (once per core; cached in {lib_dir.parent})")
    start = time.monotonic()
    records: list[str] = []
    objects: list[Path] = []

    def run(cmd: list[str]) -> tuple[int, str, float]:
        began = time.monotonic()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=FILE_TIMEOUT_S)
            return done.returncode, done.stdout + done.stderr, time.monotonic() - began
        except subprocess.TimeoutExpired:
            return -1, f"timed out after {FILE_TIMEOUT_S} s", time.monotonic() - began

    def compile_one(source: Path, pch: Path | None):
        rel = source.relative_to(tree.path)
        obj = work / "obj" / (str(rel).replace("/", "__") + ".o")
        cmd = toolchain.command(tree, source, obj, pch)
        return (rel, obj, *run(cmd), " ".join(cmd))

    (work / "obj").mkdir(parents=True)
    pch = work / "pch" / "tflm_pch.h"
    pch.parent.mkdir()
    pch.write_text(f'#include "{PCH_HEADER}"\n')
    error = None
    deadline = start + LIBRARY_TIMEOUT_S
    c_sources = [s for s in sources if s.suffix == ".c"]
    cxx_sources = [s for s in sources if s.suffix == ".cc"]
    file_seconds = 0.0
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs)  # pending compiles cancelled however left
    try:
        pch_cmd = toolchain.command(tree, pch, pch.with_name(pch.name + ".gch"))
        pch_job = pool.submit(run, pch_cmd)
        futures = [pool.submit(compile_one, s, None) for s in c_sources]  # C files need no PCH: meanwhile
        rc, output, seconds = pch_job.result(timeout=LIBRARY_TIMEOUT_S)
        records.append(f"$ {' '.join(pch_cmd)}  # {seconds:.1f} s\n{output}")
        if rc != 0:  # not fatal: each file then parses the header itself
            log(f"  precompiled header failed ({first_error_line(output) or 'see log'}): compiling without")
            pch = None
        futures += [pool.submit(compile_one, s, pch) for s in cxx_sources]
        for n, future in enumerate(concurrent.futures.as_completed(futures, timeout=LIBRARY_TIMEOUT_S), 1):
            if future.cancelled():
                continue
            rel, obj, rc, output, seconds, cmd = future.result()
            file_seconds += seconds
            records.append(f"$ {cmd}  # {seconds:.1f} s\n{output}")
            if rc != 0 and error is None:
                error = f"{rel}: {first_error_line(output) or one_line(output)[:200]}"
                for f in futures:
                    f.cancel()
            objects.append(obj)
            if n % 50 == 0:
                log(f"  {n}/{len(sources)} files ({time.monotonic() - start:.0f} s)")
            if time.monotonic() > deadline:
                raise concurrent.futures.TimeoutError
        if error is None:
            ar = toolchain.prefix + "gcc-ar"
            done = subprocess.run([ar, "rcs", str(work / "libtflm.a"), *map(str, sorted(objects))],
                                  capture_output=True, text=True)
            records.append(f"$ {ar} rcs libtflm.a ({len(objects)} objects)\n{done.stdout}{done.stderr}")
            if done.returncode != 0:
                error = f"ar: {one_line(done.stderr)[:200]}"
    except concurrent.futures.TimeoutError:
        error = f"took longer than {LIBRARY_TIMEOUT_S} s"
    except BaseException:  # Ctrl-C: no half-built library (nor its 250 MB header) stays behind
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        seconds = round(time.monotonic() - start, 1)
        if work.exists():
            (work / "build.log").write_text("\n".join(records) + "\n")
    if error is not None:
        shutil.move(str(work / "build.log"), failed_log)
        shutil.rmtree(work, ignore_errors=True)
        raise UserError(f"TFLM library build failed: {error} (full log: {failed_log})")
    shutil.rmtree(work / "obj")
    shutil.rmtree(work / "pch")  # the precompiled header is ~250 MB
    (work / "build.json").write_text(json.dumps({"seconds": seconds, "files": len(sources), "jobs": jobs,
                                                 "file_seconds": round(file_seconds, 1),
                                                 "key": json.loads(key_text)}, indent=2) + "\n")
    if lib_dir.exists():
        shutil.rmtree(lib_dir)
    work.rename(lib_dir)
    failed_log.unlink(missing_ok=True)
    log(f"TFLM library {lib_dir / 'libtflm.a'} in {seconds:.0f} s")
    return TflmLibrary(tree, lib_dir / "libtflm.a", lib_dir / "build.log", seconds, True, toolchain.cxx_headers)
