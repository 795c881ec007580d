"""Requantization parameters computed exactly as TFLM's Prepare functions compute them.

Bit-exactness depends on the precision of every step: TFLite stores scales as float32, and the pinned TFLM
wheel widens each to double *before* multiplying or dividing (conv, depthwise and FC, per-channel and
per-tensor; MEAN, ADD, SOFTMAX, QUANTIZE). One older TFLM source formed per-tensor FC's input x filter
product in float32 first; the wheel does not (tests/compiler/test_scale_products.py writes models whose
outputs tell the two apart). Python floats are IEEE doubles and numpy float32 arithmetic is IEEE single,
so each formula below mirrors the C++ expression it replaces.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import UserError

INT8_MIN, INT8_MAX = -128, 127


def _round_half_away(x: float) -> int:
    """std::round: halves away from zero (Python's round() would round half to even)."""
    return int(math.copysign(math.floor(abs(x) + 0.5), x))


def quantize_multiplier(real: float) -> tuple[int, int]:
    """TFLite QuantizeMultiplier: real ≈ multiplier · 2^(shift − 31), multiplier in [2^30, 2^31)."""
    if real == 0.0:
        return 0, 0
    if not math.isfinite(real):
        raise UserError(f"the model's scales give a multiplier of {real}")
    q, shift = math.frexp(real)
    q_fixed = _round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift, q_fixed = 0, 0
    return q_fixed, shift


def f32(x) -> np.float32:
    return np.float32(x)


def per_channel_multipliers(input_scale, filter_scales, output_scale, n_channels: int):
    """double(input) · double(filter_c) / double(output) per output channel; one filter scale (per-tensor
    weights) is repeated, as PopulateConvolutionQuantizationParams and the wheel's FULLY_CONNECTED do."""
    filter_scales = np.asarray(filter_scales, np.float32)
    if filter_scales.size == 1:
        filter_scales = np.repeat(filter_scales, n_channels)
    mults, shifts = [], []
    for s in filter_scales:
        m, sh = quantize_multiplier(float(f32(input_scale)) * float(f32(s)) / float(f32(output_scale)))
        mults.append(m)
        shifts.append(sh)
    return np.array(mults, np.int64), np.array(shifts, np.int64)


def _quantize_value(value: float, scale, zero_point: int) -> int:
    """kernel_util.cc Quantize(): float32 division, std::round on float, plus the zero point."""
    return int(zero_point) + _round_half_away(float(f32(value) / f32(scale)))


def activation_range(activation: str, scale, zero_point: int) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for an int8 output."""
    lo, hi = INT8_MIN, INT8_MAX
    if activation == "RELU":
        lo = max(lo, _quantize_value(0.0, scale, zero_point))
    elif activation == "RELU6":
        lo = max(lo, _quantize_value(0.0, scale, zero_point))
        hi = min(hi, _quantize_value(6.0, scale, zero_point))
    elif activation == "RELU_N1_TO_1":
        lo = max(lo, _quantize_value(-1.0, scale, zero_point))
        hi = min(hi, _quantize_value(1.0, scale, zero_point))
    elif activation != "NONE":
        raise UserError(f"fused activation {activation} is not supported by the compiled runtime")
    return lo, hi


def mean_multiplier(input_scale, output_scale, count: int) -> tuple[int, int]:
    """MEAN: QuantizeMultiplier(double(in)/double(out)), then 1/count folded in as QuantizedMeanOrSum does."""
    multiplier, shift = quantize_multiplier(float(f32(input_scale)) / float(f32(output_scale)))
    fold = min(count.bit_length() - 1, 32, 31 + shift)
    multiplier = int((multiplier << fold) // count) if fold >= 0 else int((multiplier >> -fold) // count)
    return _to_int32(multiplier), shift - fold


def _to_int32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >= (1 << 31) else v


def softmax_params(beta: float, input_scale) -> tuple[int, int, int]:
    """PreprocessSoftmaxScaling + CalculateInputRadius with 5 integer bits (double-rounding build)."""
    integer_bits = 5
    real = min(float(f32(beta)) * float(f32(input_scale)) * (1 << (31 - integer_bits)), (1 << 31) - 1.0)
    multiplier, left_shift = quantize_multiplier(real)
    if left_shift < 0:
        raise UserError(f"SOFTMAX input scale {float(input_scale):.3g} is too small for TFLM's int8 softmax "
                        "(QuantizeMultiplierGreaterThanOne would fail)")
    max_input_rescaled = 1.0 * ((1 << integer_bits) - 1) * (1 << (31 - integer_bits)) / (1 << left_shift)
    diff_min = -int(math.floor(max_input_rescaled))
    return multiplier, left_shift, diff_min


def add_params(scale1, scale2, scale_out) -> dict:
    """add_common.cc CalculateOpDataAdd for int8 (left_shift 20)."""
    left_shift = 20
    twice_max = 2 * float(max(f32(scale1), f32(scale2)))
    m1, s1 = quantize_multiplier(float(f32(scale1)) / twice_max)
    m2, s2 = quantize_multiplier(float(f32(scale2)) / twice_max)
    mo, so = quantize_multiplier(twice_max / ((1 << left_shift) * float(f32(scale_out))))
    for s in (s1, s2, so):
        if s > 0:
            raise UserError("ADD scales give a multiplier above 1, which TFLM rejects")
    return dict(left_shift=left_shift, input1_multiplier=m1, input1_shift=s1, input2_multiplier=m2,
                input2_shift=s2, output_multiplier=mo, output_shift=so)


def requantize_multiplier(input_scale, output_scale) -> tuple[int, int]:
    """QUANTIZE int8→int8: QuantizeMultiplier(double(in)/double(out))."""
    return quantize_multiplier(float(f32(input_scale)) / float(f32(output_scale)))


def relu_multiplier(input_scale, output_scale) -> tuple[int, int]:
    """RELU (ReluPrepare): QuantizeMultiplier(double(float32 input / float32 output)), a float32 division."""
    return quantize_multiplier(float(f32(input_scale) / f32(output_scale)))


def _downscale_to_int16(multiplier: int) -> int:
    """DownScaleInt32ToInt16Multiplier: the int32 multiplier's high half, rounded, saturated."""
    if multiplier >= (1 << 31) - 1 - (1 << 15):
        return (1 << 15) - 1
    return (multiplier + (1 << 15)) >> 16


def hard_swish_params(input_scale, output_scale) -> dict:
    """HardSwishPrepare for int8, in its float32 arithmetic: the input on a 1/128 finer scale, divided by
    the output scale and by the 'reluish' scale 3/32768, each product and quotient in float32."""
    hires_input_scale = f32(1.0 / 128.0) * f32(input_scale)
    reluish_scale = f32(3.0) / f32(32768.0)
    out_m, out_exp = quantize_multiplier(float(hires_input_scale / f32(output_scale)))
    relu_m, relu_exp = quantize_multiplier(float(hires_input_scale / reluish_scale))
    if out_exp > 0:
        raise UserError(f"HARD_SWISH: output scale {float(output_scale):.3g} is below input scale / 128, which "
                        "TFLM rejects")
    if out_exp < -31 or relu_exp < -31:
        raise UserError(f"HARD_SWISH: input scale {float(input_scale):.3g} is too small for TFLM's 16-bit kernel")
    return dict(output_multiplier=_downscale_to_int16(out_m), output_multiplier_exponent=out_exp,
                reluish_multiplier=_downscale_to_int16(relu_m), reluish_multiplier_exponent=relu_exp)
