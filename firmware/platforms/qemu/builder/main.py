"""Build for the QEMU boards with the system toolchains (arm-none-eabi for the Arm MPS2/MPS3 boards,
riscv64-unknown-elf + picolibc for the RISC-V virt board); `upload` boots QEMU.

`pio run -e qemu_m4 -t upload [--upload-port 127.0.0.1:PORT]` starts QEMU with the board's UART on a TCP
server socket (default 127.0.0.1:5555) and waits for a client such as
`mobilenet-tiny monitor --port socket://127.0.0.1:5555`; it runs until QEMU exits.
"""
import os
import subprocess
import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
platform_dir = env.PioPlatform().get_dir()
riscv = board.get("build.arch", "arm") == "riscv32"

if riscv:
    # -misa-spec=2.2 keeps CSR instructions in the base ISA (GCC 12's default spec moves them to zicsr,
    # for which the multilib set has no rv32imac variant).
    cpu_flags = ["-march=%s" % board.get("build.march"), "-mabi=%s" % board.get("build.mabi"), "-misa-spec=2.2"]
    prefix = "riscv64-unknown-elf-"
    cpu_flags.append("--specs=picolibc.specs")  # picolibc's headers when compiling, its libc when linking
    libc_flags = ["-nostartfiles"]
    size_sections = r"\.text|\.data"
else:
    cpu_flags = ["-mcpu=%s" % board.get("build.cpu"), "-mthumb",
                 "-mfloat-abi=%s" % board.get("build.float_abi", "hard")]
    if board.get("build.fpu", "auto") != "auto":
        cpu_flags.append("-mfpu=%s" % board.get("build.fpu"))
    prefix = "arm-none-eabi-"
    libc_flags = ["--specs=nano.specs", "--specs=nosys.specs"]
    size_sections = r"\.isr_vector|\.text|\.ARM\.exidx|\.ARM\.extab|\.data"

env.Replace(
    AR=prefix + "gcc-ar", AS=prefix + "as", CC=prefix + "gcc", CXX=prefix + "g++", GDB=prefix + "gdb",
    OBJCOPY=prefix + "objcopy", RANLIB=prefix + "gcc-ranlib", SIZETOOL=prefix + "size", ARFLAGS=["rc"],
    # The C driver links: the firmware uses no C++ library (none is packaged for RISC-V picolibc).
    LINK=prefix + "gcc",
    PROGNAME="firmware", PROGSUFFIX=".elf",
    # Flash = code + read-only data + initialised data's load image; RAM = data + bss (arena, stack, heap floor).
    SIZEPROGREGEXP=r"^(?:%s)\s+(\d+).*" % size_sections,
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
                ("MTK_UART_RX_IRQ", board.get("build.uart_rx_irq")), ("MTK_CPU_HZ", board.get("build.clock_hz")),
                ("MTK_BOARD_NAME", '\\"%s\\"' % env.subst("$PIOENV"))],
    LINKFLAGS=cpu_flags + ["-O2", "-Wl,--gc-sections", *libc_flags,
                           "-Wl,-L%s" % os.path.join(platform_dir, "ldscripts"), "-Wl,--print-memory-usage"],
    LIBS=["c", "m", "gcc"],
)

target_elf = env.BuildProgram()
target_size = env.AddPlatformTarget(
    "size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"),
    "Program Size", "Calculate program size")


def qemu_command(elf_path, port):
    # Keep in step with mobilenet_tiny/device/emulator.py (the CLI's launcher).
    host, _, tcp_port = port.rpartition(":")
    machine = ["-M", board.get("build.qemu_machine")] + (["-bios", "none"] if riscv else [
        "-semihosting-config", "enable=on,target=native"])
    return [board.get("build.qemu_system"), *machine, "-nographic", "-monitor", "none",
            "-icount", "shift=0,align=off,sleep=on",
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
