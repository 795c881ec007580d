"""Helpers for the TFLM firmware tests (a uniquely named module, importable whichever conftest loaded)."""
import pytest


def require_tflm(kernels: str):
    """Skip (one line saying why) unless a TFLM tree with `kernels` is available: the cache that
    `mobilenet-tiny tflm-tree` fills, or $MTK_TFLM_DIR."""
    from mobilenet_tiny.device.tflm_library import tree_unavailable_reason

    reason = tree_unavailable_reason(kernels)
    if reason:
        pytest.skip(f"TFLM {kernels}: {reason}")
