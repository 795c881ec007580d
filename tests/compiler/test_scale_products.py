"""Where the compiler forms a product of scales, it must form it as the pinned TFLM wheel does: float32
and double arithmetic give different 31-bit multipliers for most scale triples, and TFLM's output is then
off by one on the accumulators that sit near a rounding tie. Random inputs meet such ties rarely (MLPerf
Tiny's anomaly-detection model: 11 of 2,000 inputs), so these models are written to hit them: per channel,
scales for which input x filter / output in float32 and in double give different multipliers, and a bias
chosen so that the two multipliers round it to different outputs. The input at its zero point makes the
accumulator exactly that bias."""
import numpy as np
import pytest
import tflite
from tflite import BuiltinOperator, TensorType

import flatbuffer_models as fm
from compiler_helpers import assert_matches_tflm, multiply_by_quantized_multiplier, op_inputs
from mobilenet_tiny.compiler.quantization import quantize_multiplier

f32 = np.float32


def float32_product(s_in, s_w, s_out):
    return quantize_multiplier(float(f32(s_in) * f32(s_w)) / float(f32(s_out)))


def double_product(s_in, s_w, s_out):
    return quantize_multiplier(float(f32(s_in)) * float(f32(s_w)) / float(f32(s_out)))


def tie_accumulator(a, b, rng):
    """An int32 accumulator that multipliers a and b (multiplier, shift) round to different outputs."""
    ra, rb = (m * 2.0 ** (shift - 31) for m, shift in (a, b))
    for k in rng.permutation(np.arange(-120, 120)):
        lo, hi = (k + 0.5) / max(ra, rb), (k + 0.5) / min(ra, rb)
        for acc in range(int(np.floor(min(lo, hi))) - 1, int(np.ceil(max(lo, hi))) + 2):
            if abs(acc) < 2 ** 31 and (multiply_by_quantized_multiplier(acc, *a)
                                       != multiply_by_quantized_multiplier(acc, *b)):
                return acc
    return None


def tie_channels(rng, s_in, s_out, channels: int, per_channel: bool):
    """Filter scales (one, or one per channel) and per-channel biases on which the two products disagree.
    Filter scales are small, so the accumulators near an output's rounding tie are large (~1e8) and the
    two multipliers' relative difference (~1e-8) moves them across it."""
    scales, biases = [], []
    while len(biases) < channels:
        if per_channel or not scales:
            s_w = float(f32(rng.uniform(1e-5, 1e-4)))
            a, b = float32_product(s_in, s_w, s_out), double_product(s_in, s_w, s_out)
            acc = tie_accumulator(a, b, rng) if a != b else None
            if acc is None:
                continue
            scales.append(s_w)
        else:  # per-tensor: every channel shares the first scale
            acc = tie_accumulator(a, b, rng)
        biases.append(acc)
    return scales, np.array(biases, np.int32)


def tie_model(op: str, per_channel: bool, seed: int, channels: int = 40) -> bytes:
    rng = np.random.default_rng(seed)
    s_in, s_out = float(f32(rng.uniform(0.005, 0.05))), float(f32(rng.uniform(0.02, 0.2)))
    in_zp = int(rng.integers(-20, 20))
    scales, bias = tie_channels(rng, s_in, s_out, channels, per_channel)
    n = channels
    weight_shape, input_shape, output_shape, qdim, options = {
        "FULLY_CONNECTED": ((n, 1), (1, 1), (1, n), 0, fm.fully_connected_options()),
        "CONV_2D": ((n, 1, 1, 1), (1, 1, 1, 1), (1, 1, 1, n), 0, fm.conv2d_options()),
        "DEPTHWISE_CONV_2D": ((1, 1, 1, n), (1, 1, 1, n), (1, 1, 1, n), 3, fm.depthwise_options()),
    }[op]
    weights = np.ones(weight_shape, np.int8)
    tensors = [
        fm.T(input_shape, TensorType.INT8, [s_in], [in_zp]),
        fm.T(weight_shape, TensorType.INT8, scales, [0] * len(scales), weights, qdim=qdim),
        fm.T((n,), TensorType.INT32, [float(f32(s_in * s)) for s in scales], [0] * len(scales), bias),
        fm.T(output_shape, TensorType.INT8, [s_out], [0]),
    ]
    return fm.build_model(tensors, getattr(BuiltinOperator, op), [0, 1, 2], [3], options)


@pytest.mark.parametrize("weights", ["per-tensor", "per-channel"])
@pytest.mark.parametrize("op", ["FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D"])
def test_multiplier_is_formed_as_tflm_forms_it(op, weights):
    model = tie_model(op, weights == "per-channel", seed=len(op) + (weights == "per-channel"))
    scales = tflite.Model.GetRootAs(model, 0).Subgraphs(0).Tensors(1).Quantization().ScaleLength()
    assert scales == (40 if weights == "per-channel" else 1)
    inputs = op_inputs(model, n=8)  # the last three: all -128, all 127, all at the zero point (the ties)
    assert_matches_tflm(model, inputs, label=f"{op} {weights}")
