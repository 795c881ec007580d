"""`mobilenet-tiny firmware build`: a copy of firmware/ with the model's files in src/model/, built by
PlatformIO for one board.

The copy (default build/firmware/<board>) keeps the repository clean and lets several boards or models be
built side by side; it references the repository's QEMU dev-platform by absolute path so every copy shares
one installed platform.
"""
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..fileio import atomic_write, check_output_dir, replaced_dir
from ..model_facts import ModelFacts, load_model_facts
from .board import Board, check_runtime, get_board
from .model_meta import check_firmware_model, write_model_meta
from .platformio_env import FIRMWARE_DIR, pio_environ, pio_executable, setup
from .tflm_library import (TFLM_DIR_ENV, TflmLibrary, build_library, check_kernels, env_tflm_dir, find_tree,
                           first_error_line, is_library_folder, is_tree, tree_kernels)
from .tflm_library import defines as tflm_defines

MODEL_SUBDIR = Path("src") / "model"
BUILD_TIMEOUT_S = 900
# PlatformIO compiling TFLM itself (real boards, a library folder): a first build of ~200-320 TFLM files
# took 5-20 min on two busy cores.
TFLM_SOURCE_BUILD_TIMEOUT_S = 3600


@dataclass
class FirmwareBuild:
    board: Board
    runtime: str
    project_dir: Path
    firmware: Path          # firmware.elf (or .bin on ESP32)
    flash_bytes: int        # code + constant data + .data load image
    ram_bytes: int          # .data + .bss (arena, buffers); the stack comes on top
    arena_bytes: int
    facts: ModelFacts
    labels: list[str]
    macs: int = 0
    kernels: str | None = None  # TFLM's kernel set when known
    tflm_library: TflmLibrary | None = None

    @property
    def runtime_name(self) -> str:
        """What the firmware's hello calls its runtime: compiled, tflm-reference, tflm-cmsis-nn (tflm when
        the kernels are not known, e.g. the registry's library)."""
        return f"{self.runtime}-{self.kernels}" if self.kernels else self.runtime

    def summary(self) -> str:
        b = self.board
        return (f"{b.env} ({self.runtime_name}): flash {self.flash_bytes:,} B of {b.flash_bytes:,} "
                f"({100 * self.flash_bytes / b.flash_bytes:.1f} %), RAM {self.ram_bytes:,} B of {b.ram_bytes:,} "
                f"({100 * self.ram_bytes / b.ram_bytes:.1f} %), arena {self.arena_bytes:,} B -> {self.firmware}")


@dataclass
class TflmChoice:
    """Which TFLM a firmware links and how."""
    lib_dep: str | None      # lib_deps entry replacing the registry's TFLM; None: keep platformio.ini's
    build_flags: list[str]   # global flags: TFLM's include paths and defines (and the static library)
    kernels: str | None      # "reference" / "cmsis-nn"; None when unknown (the registry, a library folder)
    library: TflmLibrary | None = None  # the cached static library (QEMU boards)

    @property
    def compiled_by_platformio(self) -> bool:
        return self.library is None


def choose_tflm(board: Board, kernels: str | None, project: Path, log=print) -> TflmChoice:
    """QEMU boards link a static library compiled once per core from a TFLM tree ($MTK_TFLM_DIR or the
    cache). Real boards build TFLM with their own toolchain through PlatformIO: the registry's library by
    default, $MTK_TFLM_DIR or, with --kernels, the cache's tree instead."""
    env = env_tflm_dir()
    if env is not None and is_library_folder(env):
        if kernels:
            raise UserError(f"--kernels needs a TFLM source tree, but {TFLM_DIR_ENV}={env} is a PlatformIO/"
                            "Arduino library folder (it brings its own kernels)")
        return TflmChoice(f"symlink://{env}", [], None)
    if board.emulated:
        tree = find_tree(kernels or "reference")
        library = build_library(board, tree, log=log)
        return TflmChoice(None, library.consumer_flags(), tree.kernels, library)
    if env is None and kernels is None:
        return TflmChoice(None, [], None)  # PlatformIO's registry
    tree = find_tree(kernels or (tree_kernels(env) if is_tree(env) else "reference"))
    wrapper = project / "tflm_local"  # referred to relative to the project, which is built elsewhere first
    atomic_write(wrapper / "library.json", json.dumps({
        "name": "tflm-local", "version": "0.0.0", "description": f"TFLM ({tree.kernels} kernels) from {tree.origin}",
        "build": {"srcDir": str(tree.path), "includeDir": str(tree.path), "srcFilter": tree.source_filter(),
                  "libArchive": False}}, indent=2))
    # Global flags (PLATFORMIO_BUILD_FLAGS): TFLM's headers include flatbuffers & co. from our sources too.
    flags = [f"-I{d}" for d in tree.include_dirs()] + [f"-D{d}" for d in tflm_defines(tree.kernels)]
    return TflmChoice(f"symlink://{wrapper.name}", flags, tree.kernels)


def model_macs(model: "ModelFacts | bytes") -> int:
    """Multiply-accumulates per inference as the compiler counts them (CONV_2D, DEPTHWISE_CONV_2D,
    FULLY_CONNECTED); 0 when the compiler does not read the model (TFLM runs more ops than it compiles)."""
    from ..compiler.lowering import lower_graph
    from ..compiler.reader import read_model

    try:
        return sum(step.macs for step in lower_graph(read_model(model)))
    except UserError:
        return 0


PROJECT_MARKER = ".mobilenet-tiny-firmware"


def check_project_dir(out_dir: Path):
    """`firmware build` replaces the whole project folder: only ever one this command made."""
    if out_dir.resolve() == FIRMWARE_DIR.resolve():
        raise UserError("--out must not be the firmware/ folder itself")
    check_output_dir(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / PROJECT_MARKER).exists():
        raise UserError(f"{out_dir} is not empty and was not made by `firmware build`: choose another --out")


def prepare_project(out_dir: Path) -> Path:
    """Copy firmware/ (sources, libraries, platformio.ini) into the empty folder out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / PROJECT_MARKER).write_text("built by `mobilenet-tiny firmware build`; the folder is replaced on each build\n")
    for sub in ("src", "lib"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
        shutil.copytree(FIRMWARE_DIR / sub, out_dir / sub, ignore=shutil.ignore_patterns("model", ".*"))
    ini = (FIRMWARE_DIR / "platformio.ini").read_text()
    platform = (FIRMWARE_DIR / "platforms" / "qemu").resolve()
    ini = ini.replace("symlink://platforms/qemu", f"symlink://{platform}")
    atomic_write(out_dir / "platformio.ini", ini)
    return out_dir


def use_tflm_library(project: Path, lib_dep: str, emulated: bool):
    """Replace the registry's TFLM in the project's platformio.ini by `lib_dep` (QEMU envs get it too)."""
    ini = (project / "platformio.ini").read_text()
    ini = re.sub(r"(?ms)^(\[tflm\]\n(?:[^\[\n]*\n)*?lib_deps\s*=).*?$", lambda m: f"{m.group(1)} {lib_dep}", ini)
    if emulated:
        ini = ini.replace("[qemu]\n", "[qemu]\nlib_deps = ${tflm.lib_deps}\n", 1)
    atomic_write(project / "platformio.ini", ini)


def write_model_files(model_dir: Path, model: ModelFacts, runtime: str, labels: list[str],
                      arena_bytes: int | None = None) -> tuple[int, int]:
    """The runtime's model files (model_meta.h/.c come separately); returns (arena bytes the runtime will
    use, multiply-accumulates per inference or 0 when unknown). `arena_bytes` overrides the TFLM arena
    measured on the host (plus its margin)."""
    shutil.rmtree(model_dir, ignore_errors=True)
    model_dir.mkdir(parents=True)
    if runtime == "compiled":
        from ..compiler import compile_model

        compiled = compile_model(model, model_dir, name="model", labels=labels)
        return compiled.arena_bytes, compiled.macs

    from ..convert.c_array import write_c_array
    from ..convert.pipeline import tflm_arena_bytes

    arena = arena_bytes if arena_bytes is not None else tflm_arena_bytes(model.data)[1]
    write_c_array(model, model_dir, name="model", labels=labels, arena_bytes=arena)
    return arena, model_macs(model)


def check_budget(board: Board, arena_bytes: int, model_bytes: int):
    """Fail before a long build when the arena alone or the model alone exceeds the board's budget (the
    linker and PlatformIO's size check catch the rest: code, buffers, stack)."""
    if arena_bytes > board.ram_bytes:
        raise UserError(f"model does not fit {board.env}: its tensor arena needs {arena_bytes:,} bytes of RAM, "
                        f"the board's budget is {board.ram_bytes // 1024} KiB; use a smaller model (alpha, input size)")
    if model_bytes > board.flash_bytes:
        raise UserError(f"model does not fit {board.env}: its {model_bytes:,} bytes exceed the board's "
                        f"{board.flash_bytes // 1024} KiB of flash; use a smaller model")


def run_pio(project_dir: Path, env: str, *targets: str, timeout: float = BUILD_TIMEOUT_S,
            extra_env: dict | None = None, failure_log: Path | None = None) -> str:
    """`pio run` in its own process group, so an interrupt or a timeout stops the compilers too (they would
    go on writing into a project that is being removed). The output goes to build-ENV.log in the project,
    and when the build fails to `failure_log` too (the project may be discarded)."""
    cmd = [*pio_executable(), "run", "-d", str(project_dir), "-e", env]
    for t in targets:
        cmd += ["-t", t]
    environ = pio_environ()
    environ.update(extra_env or {})
    process = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env=environ, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()  # what it printed until then
        log = atomic_write(failure_log or project_dir / f"build-{env}.log", output)
        raise UserError(f"PlatformIO build of {env} took longer than {timeout:g} s (log so far: {log})") from None
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log = project_dir / f"build-{env}.log"
    atomic_write(log, output)
    if process.returncode != 0:
        if failure_log is not None:
            log = atomic_write(failure_log, output)
        raise UserError(explain_build_failure(env, output, log))
    if failure_log is not None:
        failure_log.unlink(missing_ok=True)
    return output


_OVERFLOW = re.compile(r"region `(\w+)' overflowed by (\d+) bytes")


def explain_build_failure(env: str, output: str, log: Path) -> str:
    board = get_board(env)
    overflow = _OVERFLOW.search(output)
    if overflow:
        region, extra = overflow.group(1), int(overflow.group(2))
        # GNU ld region names: RAM/FLASH here and on mbed; dram0_0_seg/iram0_0_seg (RAM) and
        # drom0_0_seg/irom0_0_seg (flash) on ESP32.
        is_ram = region.upper() == "RAM" or "dram" in region.lower() or "iram" in region.lower()
        budget = board.ram_bytes if is_ram else board.flash_bytes
        kind = "RAM (arena + buffers + stack)" if is_ram else "flash (code + weights)"
        return (f"model does not fit {env}: it needs {extra:,} bytes more {kind} than the board's "
                f"{budget // 1024} KiB budget; use a smaller model (alpha, input size) or a bigger board")
    if "RAM budget exceeded" in output:
        return (f"model does not fit {env}: the arena leaves no room for the stack in the board's "
                f"{board.ram_bytes // 1024} KiB RAM budget; use a smaller model or a bigger board")
    if "program size" in output and "greater than maximum" in output:
        return f"model does not fit {env}: firmware larger than the board's flash ({log})"
    if "HTTPClientError" in output or "Could not resolve" in output or "UnknownPackageError" in output:
        return (f"PlatformIO could not fetch packages for {env} (registry unreachable?): real-board envs "
                f"need the PlatformIO registry; see {log}")
    error = first_error_line(output) or next(
        (ln.strip() for ln in output.splitlines() if re.search(r"\*\*\*.*Error|Error:", ln)), "no error line")
    return f"PlatformIO build of {env} failed: {error[:300]} (full log: {log})"


def elf_sizes(elf: Path, board: Board) -> tuple[int, int]:
    """(flash, RAM) bytes from the ELF's sections, as the linker placed them."""
    out = subprocess.run([board.toolchain_prefix + "size", "-A", "-d", str(elf)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    flash = sum(sizes.get(s, 0) for s in (".isr_vector", ".text", ".ARM.exidx", ".ARM.extab", ".data"))
    ram = sizes.get(".data", 0) + sizes.get(".bss", 0)
    return flash, ram


_PIO_USAGE = re.compile(r"^(RAM|Flash):.*used (\d+) bytes from (\d+) bytes", re.M)


def build_firmware(board_env: str, model, runtime: str | None = None, out_dir=None, labels=None,
                   log=print, kernels: str | None = None, arena_bytes: int | None = None) -> FirmwareBuild:
    """Build the firmware for `board_env` around `model`. `kernels` picks TFLM's kernel set (reference or
    cmsis-nn; QEMU boards default to reference); `arena_bytes` overrides the TFLM arena."""
    board = get_board(board_env)
    runtime = check_runtime(board, runtime)
    if runtime != "tflm" and (kernels is not None or arena_bytes is not None):
        raise UserError(f"--kernels and --arena-bytes are TFLM options; the {runtime} runtime plans its own arena")
    facts = load_model_facts(model)
    check_firmware_model(facts)
    labels = facts.class_names(labels)
    if arena_bytes is not None and arena_bytes < facts.input_bytes:
        raise UserError(f"--arena-bytes {arena_bytes} is smaller than the model's input ({facts.input_bytes} bytes)")
    if board.emulated and runtime == "tflm" and not (env_tflm_dir() and is_library_folder(env_tflm_dir())):
        check_kernels(board, kernels or "reference")
        find_tree(kernels or "reference")  # before any work: says how to make the tree when there is none
    if board.emulated:
        setup(board, log=log)
    final = Path(out_dir or Path("build") / "firmware" / board.env).resolve()
    check_project_dir(final)
    # Built in a hidden sibling that replaces the old project only once everything succeeded: a model that
    # does not fit, a failed build or Ctrl-C leave the previous project (and its firmware) as they were.
    with replaced_dir(final) as staging:
        project = prepare_project(staging)
        model_dir = project / MODEL_SUBDIR
        extra_env, timeout, tflm = {}, BUILD_TIMEOUT_S, None
        if runtime == "tflm":
            tflm = choose_tflm(board, kernels, project, log=log)
            if tflm.library is not None and arena_bytes is None:
                # What the interpreter needs on this core with these kernels (CMSIS-NN's ask for scratch
                # buffers the host's reference kernels do not), measured on the emulated board itself.
                from .bench import measure_tflm_arena, tflm_arena_with_margin

                with tempfile.TemporaryDirectory(prefix="mtk-arena-") as work:
                    arena_bytes = tflm_arena_with_margin(measure_tflm_arena(facts.data, board, tflm.kernels,
                                                                            work, log=log))
        arena, macs = write_model_files(model_dir, facts, runtime, labels, arena_bytes)
        check_budget(board, arena, facts.size_bytes)
        write_model_meta(model_dir, facts, labels)
        if tflm is not None:
            if tflm.lib_dep:
                use_tflm_library(project, tflm.lib_dep, board.emulated)
            if tflm.build_flags:
                extra_env["PLATFORMIO_BUILD_FLAGS"] = " ".join(tflm.build_flags)
            if tflm.compiled_by_platformio:
                timeout = TFLM_SOURCE_BUILD_TIMEOUT_S
        if runtime != board.runtime:  # e.g. the compiled runtime on a real board
            extra_env["PLATFORMIO_BUILD_SRC_FILTER"] = (
                "-<*> +<main.cpp> +<frame.c> +<protocol.c> +<image_input.c> +<result_output.c> +<model/> "
                f"+<runtime_{runtime}.*> +<boards/{board.source_dir}/>")
        output = run_pio(project, board.env, extra_env=extra_env, timeout=timeout,
                         failure_log=final.with_name(f"{final.name}.failed-build.log"))
        build_dir = Path(".pio") / "build" / board.env
        elf = build_dir / "firmware.elf"
        if board.emulated:
            flash, ram = elf_sizes(project / elf, board)
        else:
            usage = {m.group(1): int(m.group(2)) for m in _PIO_USAGE.finditer(output)}
            flash, ram = usage.get("Flash", 0), usage.get("RAM", 0)
            elf = build_dir / "firmware.bin" if (project / build_dir / "firmware.bin").exists() else elf
    return FirmwareBuild(board, runtime, final, final / elf, flash, ram, arena, facts, labels, macs,
                         tflm.kernels if tflm else None, tflm.library if tflm else None)
