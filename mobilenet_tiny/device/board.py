"""The board catalog: one row per PlatformIO env with everything the CLI needs to know about it.

Memory budgets are those of the real part a board stands for (QEMU maps far more); the linker scripts of
the QEMU platform and `board_upload.*` in platformio.ini enforce the same numbers.
"""
from dataclasses import dataclass

from ..errors import UserError

KIB = 1024


@dataclass(frozen=True)
class Board:
    env: str                 # PlatformIO environment in firmware/platformio.ini
    description: str
    runtime: str             # default runtime: "compiled" or "tflm"
    runtimes: tuple[str, ...]
    flash_bytes: int         # budget for code + weights
    ram_bytes: int           # budget for data + arena + stack
    qemu_machine: str | None = None  # set for emulated boards
    timer: str = ""          # what a latency tick is
    clock_hz: int = 0        # CPU clock latencies in ms are given at (an emulated board: its real part's)
    baud: int = 115200       # serial rate the firmware opens (real boards; QEMU's socket has none)
    arch: str = "arm"        # "arm" or "riscv32": the toolchain and, on QEMU, the emulator binary
    kernel_path: str = "dsp"  # the compiled runtime's kernel path on this CPU: "dsp", "mve", "riscv" or "portable"
    cycle_model: str = ""    # how `bench --cycles` prices QEMU's executed stream (mobilenet_tiny/cycles): "m4", "m55-beats"

    @property
    def emulated(self) -> bool:
        return self.qemu_machine is not None

    @property
    def qemu_system(self) -> str:
        return {"arm": "qemu-system-arm", "riscv32": "qemu-system-riscv32"}[self.arch]

    @property
    def toolchain_prefix(self) -> str:
        return {"arm": "arm-none-eabi-", "riscv32": "riscv64-unknown-elf-"}[self.arch]

    @property
    def source_dir(self) -> str:
        """The board-support folder under firmware/src/boards/ this board is built with."""
        if not self.emulated:
            return "arduino"
        return {"arm": "qemu", "riscv32": "qemu_riscv"}[self.arch]


BOARDS: dict[str, Board] = {b.env: b for b in (
    Board("qemu_m4", "QEMU mps2-an386, Cortex-M4F (budget of an STM32F4-class part)", "compiled", ("compiled", "tflm"),
          1024 * KIB, 256 * KIB, "mps2-an386", "SysTick under -icount: 1 tick = 40 instructions", 168_000_000,
          cycle_model="m4"),
    Board("qemu_m7", "QEMU mps2-an500, Cortex-M7 (budget of an STM32H7/F7-class part)", "compiled", ("compiled", "tflm"),
          2048 * KIB, 512 * KIB, "mps2-an500", "SysTick under -icount: 1 tick = 40 instructions", 216_000_000,
          cycle_model="m4"),  # the M7 build's stream at Cortex-M4 timings: no M7 model (dual issue) here
    Board("qemu_m55", "QEMU mps3-an547, Cortex-M55 with Helium (budget of an Alif Ensemble-class part)",
          "compiled", ("compiled", "tflm"), 2048 * KIB, 512 * KIB, "mps3-an547",
          "SysTick at 32 MHz under -icount, reported in instructions", 400_000_000, kernel_path="mve",
          cycle_model="m55-beats"),
    Board("qemu_rv32", "QEMU virt, RV32IMAC: the ESP32-C3/C6 class (budget of an ESP32-C3)", "compiled",
          ("compiled", "tflm"), 4096 * KIB, 400 * KIB, "virt", "minstret under -icount: 1 tick = 1 instruction",
          160_000_000, arch="riscv32", kernel_path="riscv"),
    Board("esp32dev", "ESP32 DevKit (Xtensa LX6, 240 MHz), Arduino + TFLM", "tflm", ("tflm", "compiled"),
          1280 * KIB, 320 * KIB, None, "CCOUNT CPU cycles", 240_000_000, 921_600, kernel_path="portable"),
    Board("esp32s3", "ESP32-S3 DevKitC-1 (Xtensa LX7, 240 MHz), Arduino + TFLM", "tflm", ("tflm", "compiled"),
          3264 * KIB, 320 * KIB, None, "CCOUNT CPU cycles", 240_000_000, 921_600, kernel_path="portable"),
    Board("esp32c3", "ESP32-C3-DevKitM-1 (RISC-V RV32IMC, 160 MHz), Arduino + TFLM", "tflm", ("tflm", "compiled"),
          1280 * KIB, 320 * KIB, None, "CCOUNT CPU cycles", 160_000_000, 921_600, kernel_path="riscv"),
    Board("esp32c6", "ESP32-C6-DevKitC-1 (RISC-V RV32IMAC, 160 MHz), Arduino + TFLM", "tflm", ("tflm", "compiled"),
          1280 * KIB, 320 * KIB, None, "CCOUNT CPU cycles", 160_000_000, 921_600, kernel_path="riscv"),
    Board("nano33ble", "Arduino Nano 33 BLE (nRF52840, Cortex-M4F, 64 MHz), Arduino mbed + TFLM", "tflm",
          ("tflm", "compiled"), 960 * KIB, 256 * KIB, None, "DWT CYCCNT CPU cycles", 64_000_000),
)}


def get_board(env: str) -> Board:
    try:
        return BOARDS[env]
    except KeyError:
        raise UserError(f"unknown board {env!r}: choose one of {', '.join(BOARDS)}") from None


def serial_baud(baud: int | None, board_env: str | None) -> int:
    """The rate to open a real board's port at: `baud` if given, else the board's from the table, else
    115200 (PROTOCOL.md's default). A socket:// port ignores it."""
    if baud is not None:
        if baud <= 0:
            raise UserError(f"--baud must be a positive rate, got {baud}")
        return baud
    return get_board(board_env).baud if board_env else 115200


def check_runtime(board: Board, runtime: str | None) -> str:
    """The runtime to build for `board`: its default, or `runtime` if the board supports it."""
    runtime = runtime or board.runtime
    if runtime not in board.runtimes:
        raise UserError(f"board {board.env} cannot run the {runtime!r} runtime here: "
                        f"choose one of {', '.join(board.runtimes)}")
    return runtime
