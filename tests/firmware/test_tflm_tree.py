"""The TFLM tree and library machinery without building firmware: the dependency versions are the ones the
pinned tflite-micro's download scripts name, the library gets the sources and defines TFLM's own project
Makefile uses (the ones a bare `+<tensorflow/lite/>` filter missed), real boards get the same sources
through PlatformIO, and failures are one line."""
import json
import subprocess
import sys

import pytest

from tflm_helpers import require_tflm


def test_read_pins_follows_the_download_scripts_variables(tmp_path):
    """The formats of third_party_downloads.inc (make variables, a patch per download) and of the CMSIS
    download scripts (an archive prefix set before each URL), written here from scratch."""
    from mobilenet_tiny.tflm_tree import MAKE_DIR, read_pins

    make = tmp_path / MAKE_DIR
    (make / "ext_libs").mkdir(parents=True)
    (make / "third_party_downloads.inc").write_text(
        'GEMMLOWP_URL := "https://github.com/google/gemmlowp/archive/1111111111111111111111111111111111111111.zip"\n'
        'RUY_URL="https://github.com/google/ruy/archive/2222222222222222222222222222222222222222.zip"\n'
        'FLATBUFFERS_URL := "https://github.com/google/flatbuffers/archive/refs/tags/v1.2.3.zip"\n'
        'FLATBUFFERS_PATCH_PATH := "tools/flat.patch"\n'
        'KISSFFT_URL := "https://github.com/mborgerding/kissfft/archive/refs/tags/v7.zip"\n'
        'OTHER_URL := "https://github.com/someone/else/archive/v1.zip"\n')
    (make / "ext_libs" / "cmsis_download.sh").write_text(
        '  ZIP_PREFIX="3333333333333333333333333333333333333333"\n'
        '  CMSIS_URL="http://github.com/ARM-software/CMSIS_6/archive/${ZIP_PREFIX}.zip"\n'
        '  ZIP_PREFIX="4444444444444444444444444444444444444444"\n'
        '  CMSIS_DFP_URL="http://github.com/ARM-software/Cortex_DFP/archive/${ZIP_PREFIX}.zip"\n')
    (make / "ext_libs" / "cmsis_nn_download.sh").write_text(
        'ZIP_PREFIX_NN="5555555555555555555555555555555555555555"\n'
        'CMSIS_NN_URL="http://github.com/ARM-software/CMSIS-NN/archive/${ZIP_PREFIX_NN}.zip"\n')
    pins = {p.repo: p for p in read_pins(tmp_path)}
    assert {r: (p.ref, p.folder, p.patch) for r, p in pins.items()} == {
        "google/gemmlowp": ("1" * 40, "gemmlowp", None), "google/ruy": ("2" * 40, "ruy", None),
        "google/flatbuffers": ("v1.2.3", "flatbuffers", "tools/flat.patch"), "mborgerding/kissfft": ("v7", "kissfft", None),
        "ARM-software/CMSIS_6": ("3" * 40, "cmsis", None), "ARM-software/Cortex_DFP": ("4" * 40, "cmsis/Cortex_DFP", None),
        "ARM-software/CMSIS-NN": ("5" * 40, "cmsis_nn", None)}
    # Parents before children: cmsis/ exists before cmsis/Cortex_DFP is exported into it.
    folders = [p.folder for p in read_pins(tmp_path)]
    assert folders.index("cmsis") < folders.index("cmsis/Cortex_DFP")


def test_tree_pins_are_those_the_pinned_commit_names(tmp_path):
    """The trees in the cache were made from the dependency versions tflite-micro's scripts name at the
    pinned commit (read again here from the fetched tflite-micro), each resolved to its full commit."""
    from mobilenet_tiny.tflm_tree import (PIN_FILES, TFLM_COMMIT, TFLM_REPO, Sources, default_sources,
                                          default_tree_dir, read_pins, read_tree_set)

    require_tflm("reference")
    trees = read_tree_set(default_tree_dir())
    if trees is None or not default_sources():
        pytest.skip("needs the cached trees and the fetched snapshots (/work/.mirror)")
    assert trees.manifest["tflite_micro"]["commit"] == TFLM_COMMIT
    sources = Sources(default_sources(), tmp_path, log=lambda *_: None)
    git_dir, _ = sources.find(TFLM_REPO, TFLM_COMMIT)
    for name in PIN_FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(subprocess.run(["git", "-C", str(git_dir), "show", f"{TFLM_COMMIT}:{name}"],
                                                     capture_output=True, check=True).stdout)
    named = {p.repo: p.ref for p in read_pins(tmp_path)}
    recorded = {d["repo"]: d for d in trees.manifest["dependencies"]}
    assert {r: d["ref"] for r, d in recorded.items()} == named
    for repo, dep in recorded.items():
        assert sources.find(repo, dep["ref"])[1] == dep["commit"]
    assert trees.manifest["wheel"]["commit"]  # what the host wheel says it was built from, for the README


def test_library_sources_and_defines_are_those_of_tflms_project_makefile():
    from mobilenet_tiny.device.tflm_library import defines, find_tree

    require_tflm("reference")
    require_tflm("cmsis-nn")
    reference, cmsis = find_tree("reference"), find_tree("cmsis-nn")
    ref_files = {str(p.relative_to(reference.path)) for p in reference.sources()}
    # The two the old `+<tensorflow/lite/>` filter left out (undefined ErrorReporter::Report, GetBuiltinCode).
    assert {"tensorflow/compiler/mlir/lite/core/api/error_reporter.cc",
            "tensorflow/compiler/mlir/lite/schema/schema_utils.cc"} <= ref_files
    assert not any(f.endswith("_test.cc") or "/examples/" in f for f in ref_files)
    cmsis_files = {str(p.relative_to(cmsis.path)) for p in cmsis.sources()}
    assert any(f.startswith("third_party/cmsis_nn/Source/ConvolutionFunctions/") for f in cmsis_files)
    assert "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc" in cmsis_files
    assert "tensorflow/lite/micro/kernels/conv.cc" not in cmsis_files  # replaced by CMSIS-NN's
    assert {"TF_LITE_STATIC_MEMORY", "NDEBUG"} <= set(defines("reference"))
    assert {"CMSIS_NN", "PROJECT_GENERATION", "NDEBUG"} <= set(defines("cmsis-nn"))


def test_real_board_builds_the_tree_through_platformio(tmp_path, monkeypatch):
    """A real board with --kernels gets the cache's tree as a PlatformIO library (its own toolchain compiles
    it) with the same sources and defines; without it, the registry's library stays."""
    from mobilenet_tiny.device.board import get_board
    from mobilenet_tiny.device.firmware_build import choose_tflm

    require_tflm("cmsis-nn")
    monkeypatch.delenv("MTK_TFLM_DIR", raising=False)
    board = get_board("nano33ble")
    assert choose_tflm(board, None, tmp_path).lib_dep is None  # the registry
    choice = choose_tflm(board, "cmsis-nn", tmp_path)
    assert choice.lib_dep == "symlink://tflm_local" and choice.kernels == "cmsis-nn" and choice.library is None
    library = json.loads((tmp_path / "tflm_local" / "library.json").read_text())
    assert "+<third_party/cmsis_nn/Source/>" in library["build"]["srcFilter"]
    assert {"-DCMSIS_NN", "-DNDEBUG", "-DTF_LITE_STATIC_MEMORY"} <= set(choice.build_flags)


def test_build_failure_names_the_compiler_error(tmp_path):
    from mobilenet_tiny.device.firmware_build import explain_build_failure

    log = ("Compiling .pio/build/qemu_m4/lib/tflm/tensorflow/lite/micro/micro_error_reporter.o\n"
           "src/runtime_tflm.cpp:12:10: fatal error: tensorflow/lite/micro/micro_interpreter.h: No such file\n"
           "*** [.pio/build/qemu_m4/src/runtime_tflm.cpp.o] Error 1\n")
    message = explain_build_failure("qemu_m4", log, tmp_path / "build.log")
    assert "fatal error: tensorflow/lite/micro/micro_interpreter.h: No such file" in message
    assert "micro_error_reporter.o" not in message and str(tmp_path / "build.log") in message
    linked = explain_build_failure("qemu_m4", "x.o: in function `f':\nx.cc:(.text+0x1): undefined reference to "
                                              "`tflite::GetBuiltinCode(tflite::OperatorCode const*)'\n", tmp_path)
    assert "undefined reference to `tflite::GetBuiltinCode" in linked


@pytest.mark.parametrize("args,message", [
    (["--from", "NOGIT"], "is not a git directory"),
    (["--from", "EMPTYGIT"], "none of the --from directories holds tensorflow/tflite-micro at 90b983c"),
])
def test_tflm_tree_bad_sources_are_one_line(tmp_path, args, message):
    (tmp_path / "NOGIT").mkdir()
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "EMPTYGIT")], check=True)
    args = [str(tmp_path / a) if a in ("NOGIT", "EMPTYGIT") else a for a in args]
    result = subprocess.run([sys.executable, "-m", "mobilenet_tiny.cli", "tflm-tree", *args, "--out",
                             str(tmp_path / "trees")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not (tmp_path / "trees").exists()
