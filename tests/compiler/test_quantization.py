"""The compile-time arithmetic: TFLM's QuantizeMultiplier, and the DSP path's folded output stage proven
equal to TFLM's two-rounding MultiplyByQuantizedMultiplier + zero point on a large random sample."""
import numpy as np
import pytest

from compiler_helpers import multiply_by_quantized_multiplier
from mobilenet_tiny.compiler import quantization as qz


def tflm_output(acc: int, multiplier: int, shift: int, zp: int) -> int:
    """TFLM reference (double rounding): RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, m), r) + zp."""
    return multiply_by_quantized_multiplier(acc, multiplier, shift) + zp


def smmulr(a: int, b: int) -> int:
    """Arm SMMULR: the rounded high word of the signed 64-bit product."""
    return (a * b + (1 << 31)) >> 32


def folded_output(acc: int, multiplier: int, r: int, zp: int) -> int:
    """mtk_output_folded (the DSP path's output stage) before clamping."""
    rounding = (1 << (r - 1)) + zp * (1 << r)
    return (smmulr(2 * acc, multiplier) + rounding + (-1 if acc < 0 else 0)) >> r


@pytest.mark.parametrize("real,expected", [(1.0, (1 << 30, 1)), (0.5, (1 << 30, 0)), (0.75, (3 << 29, 0)),
                                           (0.0, (0, 0)), (2.0 ** -40, (0, 0))])
def test_quantize_multiplier_known_values(real, expected):
    assert qz.quantize_multiplier(real) == expected


def test_quantize_multiplier_reconstructs_the_scale():
    rng = np.random.default_rng(0)
    for real in rng.uniform(1e-6, 4.0, 2000):
        m, s = qz.quantize_multiplier(float(real))
        assert (1 << 30) <= m < (1 << 31)
        assert abs(m * 2.0 ** (s - 31) - real) <= real * 2.0 ** -30


def test_folded_output_stage_equals_tflm_double_rounding():
    rng = np.random.default_rng(1)
    for _ in range(60_000):
        r = int(rng.integers(1, 24))
        multiplier = int(rng.integers(1 << 30, 1 << 31))
        acc = int(rng.integers(-(1 << 29), 1 << 29)) if rng.random() < 0.5 else int(rng.integers(-3000, 3000))
        zp = int(rng.integers(-128, 128))
        assert folded_output(acc, multiplier, r, zp) == tflm_output(acc, multiplier, -r, zp), (acc, multiplier, r, zp)


def test_folded_output_stage_exact_ties():
    """Accumulators that land exactly on a rounding tie of either step, both signs."""
    multiplier = 1 << 30  # x = acc / 2 exactly, then / 2^r
    for r in (1, 2, 5, 12):
        for acc in range(-(1 << (r + 3)), 1 << (r + 3)):
            assert folded_output(acc, multiplier, r, -7) == tflm_output(acc, multiplier, -r, -7), (acc, r)


def test_mean_multiplier_folds_the_count():
    m, s = qz.mean_multiplier(0.02, 0.02, 9)
    assert abs(m * 2.0 ** (s - 31) - 1 / 9) < 1e-8
