"""Build for QEMU Cortex-M boards with the system arm-none-eabi toolchain; `upload` boots QEMU.

`pio run -e qemu_m4 -t upload [--upload-port 127.0.0.1:PORT]` starts qemu-system-arm with the board's
UART on a TCP server socket (default 127.0.0.1:5555) and waits for a client such as
`mobilenet-tiny monitor --port socket://127.0.0.1:5555`; it runs until QEMU exits.
"""
import os
import subprocess
import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
platform_dir = env.PioPlatform().get_dir()

cpu_flags = ["-mcpu=%s" % board.get("build.cpu"), "-mthumb", "-mfloat-abi=%s" % board.get("build.float_abi", "hard")]
if board.get("build.fpu", "auto") != "auto":
    cpu_flags.append("-mfpu=%s" % board.get("build.fpu"))

env.Replace(
    AR="arm-none-eabi-gcc-ar", AS="arm-none-eabi-as", CC="arm-none-eabi-gcc", CXX="arm-none-eabi-g++",
    GDB="arm-none-eabi-gdb", OBJCOPY="arm-none-eabi-objcopy", RANLIB="arm-none-eabi-gcc-ranlib",
    SIZETOOL="arm-none-eabi-size", ARFLAGS=["rc"],
    PROGNAME="firmware", PROGSUFFIX=".elf",
    # Flash = code + read-only data + initialised data's load image; RAM = data + bss (arena, stack, heap floor).
    SIZEPROGREGEXP=r"^(?:\.isr_vector|\.text|\.ARM\.exidx|\.ARM\.extab|\.data)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
    LDSCRIPT_PATH=os.path.join(platform_dir, "ldscripts", board.get("build.ldscript")),
)
env.Append(
    ASFLAGS=cpu_flags,
    ASPPFLAGS=["-x", "assembler-with-cpp"],
    CCFLAGS=cpu_flags + ["-O2", "-g", "-ffunction-sections", "-fdata-sections", "-Wall", "-Wextra"],
    CXXFLAGS=["-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics", "-fno-use-cxa-atexit"],
    CPPDEFINES=[("F_CPU", "$BOARD_F_CPU"), "MTK_BOARD_QEMU", ("MTK_UART_BASE", board.get("build.uart_base")),
                ("MTK_BOARD_NAME", '\\"%s\\"' % env.subst("$PIOENV"))],
    LINKFLAGS=cpu_flags + ["-O2", "-Wl,--gc-sections", "--specs=nano.specs", "--specs=nosys.specs",
                           "-Wl,-L%s" % os.path.join(platform_dir, "ldscripts"), "-Wl,--print-memory-usage"],
    LIBS=["c", "m", "gcc"],
)

target_elf = env.BuildProgram()
target_size = env.AddPlatformTarget(
    "size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"),
    "Program Size", "Calculate program size")


def qemu_command(elf_path, port):
    host, _, tcp_port = port.rpartition(":")
    return ["qemu-system-arm", "-M", board.get("build.qemu_machine"), "-nographic", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native", "-icount", "shift=0,align=off,sleep=off",
            "-serial", "tcp:%s:%s,server=on,wait=on,nodelay=on" % (host or "127.0.0.1", tcp_port),
            "-kernel", elf_path]


def boot_in_qemu(target, source, env):
    port = env.subst("$UPLOAD_PORT") or "127.0.0.1:5555"
    port = port.replace("socket://", "")
    cmd = qemu_command(str(source[0].abspath), port)
    print("QEMU %s waiting for a serial client on socket://%s (Ctrl-C stops it)" % (board.get("build.qemu_machine"), port))
    print(" ".join(cmd))
    sys.stdout.flush()
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:
        return 0


upload = env.AddPlatformTarget("upload", target_elf, env.VerboseAction(boot_in_qemu, "Booting $SOURCE in QEMU"),
                               "Upload", "Boot the firmware in QEMU with the UART on TCP")
AlwaysBuild(upload)
Default([target_elf, target_size])
