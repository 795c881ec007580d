"""firmware/platformio.ini and the QEMU dev-platform agree with the board catalog (board.py). The real-board
envs cannot build here (their platforms and TFLM come from PlatformIO's registry), so they are checked
by parsing."""
import json
import re

import pytest
from platformio.project.config import ProjectConfig

from mobilenet_tiny.device.board import BOARDS, check_runtime, get_board
from mobilenet_tiny.device.platformio_env import FIRMWARE_DIR
from mobilenet_tiny.errors import UserError

PLATFORM = FIRMWARE_DIR / "platforms" / "qemu"


@pytest.fixture(scope="module")
def config():
    c = ProjectConfig(str(FIRMWARE_DIR / "platformio.ini"))
    assert c.validate()
    return c


def test_every_catalog_board_has_an_env(config):
    assert set(config.envs()) == set(BOARDS)


@pytest.mark.parametrize("env", [b.env for b in BOARDS.values() if not b.emulated])
def test_hardware_envs_use_tflm_from_a_maintained_library(config, env):
    section = f"env:{env}"
    assert config.get(section, "framework") == ["arduino"]
    assert config.get(section, "platform") in ("espressif32", "nordicnrf52", "ststm32")
    assert any("Chirale_TensorFlowLite" in dep for dep in config.get(section, "lib_deps"))
    src = " ".join(config.get(section, "build_src_filter"))
    assert "+<runtime_tflm.cpp>" in src and "runtime_compiled" not in src and "+<boards/arduino/>" in src
    board = get_board(env)
    # The limits PlatformIO's size check enforces are the catalog's budgets.
    assert int(config.get(section, "board_upload.maximum_size")) == board.flash_bytes
    assert int(config.get(section, "board_upload.maximum_ram_size")) == board.ram_bytes
    assert check_runtime(board, None) == "tflm"
    # The firmware opens the serial port at the catalog's rate, the one the host defaults to (--baud).
    assert int(config.get(section, "monitor_speed")) == board.baud
    assert f"-DMTK_SERIAL_BAUD={board.baud}" in " ".join(config.get(section, "build_flags"))


@pytest.mark.parametrize("env,pio_board", [("esp32c3", "esp32-c3-devkitm-1"), ("esp32c6", "esp32-c6-devkitc-1")])
def test_riscv_esp32_envs(config, env, pio_board):
    assert config.get(f"env:{env}", "board") == pio_board and get_board(env).clock_hz == 160_000_000


@pytest.mark.parametrize("env", [b.env for b in BOARDS.values() if b.emulated])
def test_qemu_boards_match_catalog_and_linker_budget(config, env):
    board = get_board(env)
    assert config.get(f"env:{env}", "platform") == "symlink://platforms/qemu"
    spec = json.loads((PLATFORM / "boards" / f"{env}.json").read_text())
    assert spec["build"]["qemu_machine"] == board.qemu_machine
    assert spec["build"]["qemu_system"] == board.qemu_system
    assert int(spec["build"]["clock_hz"]) == board.clock_hz  # the clock `hello` reports for ms
    assert spec["build"].get("arch", "arm") == board.arch
    assert (spec["upload"]["maximum_size"], spec["upload"]["maximum_ram_size"]) == (board.flash_bytes, board.ram_bytes)
    ld = (PLATFORM / "ldscripts" / spec["build"]["ldscript"]).read_text()
    lengths = dict(re.findall(r"^\s*(FLASH|RAM)\s*\([rwx]+\)\s*:\s*ORIGIN\s*=\s*\w+,\s*LENGTH\s*=\s*(\d+)K", ld, re.M))
    assert int(lengths["FLASH"]) * 1024 == board.flash_bytes and int(lengths["RAM"]) * 1024 == board.ram_bytes
    assert check_runtime(board, None) == "compiled"


def test_unknown_board_is_a_one_line_error():
    with pytest.raises(UserError, match="unknown board 'uno'.*qemu_m4"):
        get_board("uno")
