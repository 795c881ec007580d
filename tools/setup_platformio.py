#!/usr/bin/env python3
"""Prepare PlatformIO to build the qemu_* firmware envs offline (idempotent, instant when already done).

PLATFORMIO_CORE_DIR defaults to <repo>/.platformio; set it to use another core dir.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mobilenet_tiny.device.platformio_env import core_dir, setup  # noqa: E402
from mobilenet_tiny.errors import UserError  # noqa: E402

if __name__ == "__main__":
    try:
        pkg = setup()
    except UserError as e:
        sys.exit(f"error: {e}")
    print(f"PlatformIO ready offline: core dir {core_dir()}, {pkg.name} installed")
