"""`mobilenet-tiny export arduino`: the library's example sketch, built through PlatformIO for the QEMU
Cortex-M4 (the dev-platform's Arduino API subset), classifies its sample frame exactly as the host TFLM
interpreter does; the TFLM variant's files; one-line errors."""
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from mobilenet_tiny.device.board import get_board
from mobilenet_tiny.device.emulator import Emulator
from mobilenet_tiny.device.firmware_build import run_pio
from mobilenet_tiny.device.link import DeviceLink
from mobilenet_tiny.device.platformio_env import FIRMWARE_DIR, setup
from mobilenet_tiny.interpreters import TflmInterpreter, quantize_pixels

pytestmark = pytest.mark.qemu


def cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "mobilenet_tiny.cli", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def example_project(library, board_env: str, root):
    """A PlatformIO project as a user makes one: the library in lib/, the example sketch in src/."""
    shutil.copytree(library, root / "lib" / library.name)
    shutil.copytree(library / "examples" / "Classify", root / "src")
    platform = (FIRMWARE_DIR / "platforms" / "qemu").resolve()
    (root / "platformio.ini").write_text(
        f"[env:{board_env}]\nplatform = symlink://{platform}\nboard = {board_env}\nframework = arduino\n")
    return root


def read_sketch_output(url: str, timeout: float = 60) -> str:
    text = ""
    deadline = time.monotonic() + timeout
    with DeviceLink(url) as link:
        while not re.search(r"scores:[ \d-]+\r\n", text) and time.monotonic() < deadline:
            text += link.read_available().decode(errors="replace")
    return text


def test_example_sketch_on_qemu_equals_host_tflm(tmp_path, small_model_path, small_model_bytes):
    from mobilenet_tiny.export.arduino import MARKER

    library = tmp_path / "libraries" / "gray_levels"
    done = cli("export", "arduino", small_model_path, "-o", library, "--name", "gray_levels", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote the Arduino library gray_levels (compiled runtime)" in done.stdout
    properties = dict(line.split("=", 1) for line in (library / "library.properties").read_text().splitlines())
    assert properties["name"] == "gray_levels" and properties["includes"] == "gray_levels.h"
    assert "32x32x1 input, 4 classes (dark, dim, bright, light)" in properties["sentence"]
    header = (library / "src" / "gray_levels.h").read_text()
    assert "#define GRAY_LEVELS_INPUT_BYTES 1024" in header and "int gray_levels_classify(" in header
    assert (library / "src" / "mtk_kernels.h").is_file() and (library / "src" / "gray_levels_net.c").is_file()
    sketch = (library / "examples" / "Classify" / "Classify.ino").read_text()
    assert "bool GetImage(int image_width, int image_height, int channels, uint8_t *image_data)" in sketch

    # The frame the sketch classifies, read back from the header it compiles.
    sample = (library / "examples" / "Classify" / "sample_image.h").read_text()
    frame = np.array([int(v) for v in re.search(r"\{(.*)\}", sample, re.S).group(1).replace(",", " ").split()],
                     np.uint8).reshape(32, 32, 1)
    host = TflmInterpreter(small_model_bytes)
    expected = host.run(quantize_pixels(frame, host.input_details)).reshape(-1)

    setup(log=lambda *_: None)
    project = example_project(library, "qemu_m4", tmp_path / "sketch")
    run_pio(project, "qemu_m4")
    elf = project / ".pio" / "build" / "qemu_m4" / "firmware.elf"
    with Emulator(get_board("qemu_m4"), elf, time_limit=120) as qemu:
        text = read_sketch_output(qemu.url)
    scores = re.search(r"scores:([ \d-]+)\r\n", text)
    assert scores, text
    np.testing.assert_array_equal(np.array(scores.group(1).split(), np.int8), expected)
    labels = ["dark", "dim", "bright", "light"]
    assert f"top class: {labels[int(np.argmax(expected))]} (score {expected.max()}" in text
    # Export again over the same folder: replaced whole; another folder is refused (below).
    again = cli("export", "arduino", small_model_path, "-o", library, "--name", "gray_levels", cwd=tmp_path)
    assert again.returncode == 0 and (library / MARKER).is_file()


def test_tflm_variant_files(tmp_path, small_model_path):
    library = tmp_path / "lib_tflm"
    done = cli("export", "arduino", small_model_path, "-o", library, "--runtime", "tflm", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    src = library / "src"
    assert sorted(p.name for p in src.iterdir()) == [
        "mobilenet_tiny_model.cpp", "mobilenet_tiny_model.h", "mobilenet_tiny_model_tflite_data.cc",
        "mobilenet_tiny_model_tflite_data.h"]
    assert "depends=Chirale_TensorFlowLite" in (library / "library.properties").read_text()
    code = (src / "mobilenet_tiny_model.cpp").read_text()
    assert "MicroMutableOpResolver<MOBILENET_TINY_MODEL_TFLITE_OP_COUNT>" in code and "AllocateTensors" in code


@pytest.mark.parametrize("args,message", [
    (["-o", "occupied"], "is not a library made by `export arduino`"),
    (["-o", "out", "--name", "Bad-Name"], "use a lower-case C identifier"),
    (["-o", "out", "--image", "missing.png"], "no such file"),
])
def test_bad_export_input_is_one_line(tmp_path, small_model_path, args, message):
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "sketch.ino").write_text("// a user's file")
    result = cli("export", "arduino", small_model_path, *args, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert (tmp_path / "occupied" / "sketch.ino").read_text() == "// a user's file"
    assert not (tmp_path / "out").exists()
