"""Helpers for the TFLM firmware tests (a uniquely named module, importable whichever conftest loaded)."""
import pytest


def require_tflm(kernels: str, env: str | None = None):
    """Skip (one line saying why) unless a TFLM tree with `kernels` is available: the cache that
    `mobilenet-tiny tflm-tree` fills, or $MTK_TFLM_DIR; and, for board `env`, the C++ headers its toolchain
    compiles TFLM with (qemu_rv32 borrows arm-none-eabi's)."""
    from mobilenet_tiny.device.board import get_board
    from mobilenet_tiny.device.tflm_library import cxx_header_flags, tree_unavailable_reason
    from mobilenet_tiny.errors import UserError

    reason = tree_unavailable_reason(kernels)
    if reason:
        pytest.skip(f"TFLM {kernels}: {reason}")
    if env is not None:
        try:
            cxx_header_flags(get_board(env))
        except UserError as e:
            pytest.skip(f"TFLM on {env}: {e}")
