"""mobilenet-tiny's local PlatformIO dev-platform for QEMU Cortex-M boards (no registry packages)."""
from platformio.public import PlatformBase


class QemuPlatform(PlatformBase):
    """Everything is in builder/main.py; the toolchain and qemu-system-arm come from the system."""
