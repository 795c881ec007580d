"""`framework = arduino` on the QEMU boards: the Arduino shim (platforms/qemu/arduino) and the board
support the firmware uses (firmware/src/boards/<family>: start-up, UART, timer), built around a sketch."""
import os

from SCons.Script import DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
platform_dir = env.PioPlatform().get_dir()
firmware_src = os.path.normpath(os.path.join(platform_dir, "..", "..", "src"))
family = "qemu_riscv" if board.get("build.arch", "arm") == "riscv32" else "qemu"

env.Append(CPPPATH=[os.path.join(platform_dir, "arduino"), firmware_src], CPPDEFINES=[("ARDUINO", 10819)])
env.BuildSources(os.path.join("$BUILD_DIR", "ArduinoShim"), os.path.join(platform_dir, "arduino"))
env.BuildSources(os.path.join("$BUILD_DIR", "BoardSupport"), os.path.join(firmware_src, "boards", family))
