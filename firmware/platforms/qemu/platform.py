"""mobilenet-tiny's local PlatformIO dev-platform for QEMU Cortex-M and RISC-V boards (no registry packages)."""
from platformio.public import PlatformBase


class QemuPlatform(PlatformBase):
    """Everything is in builder/main.py; the toolchains and QEMU come from the system."""
