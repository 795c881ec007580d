"""Single-operator .tflite models written directly with the flatbuffer schema (the `tflite` package's
generated builders), for cases the TF converter never emits on its own: QUANTIZE int8 -> int8 between two
scales, a CONV_2D that keeps its dilation factor, fused RELU_N1_TO_1."""
from dataclasses import dataclass

import flatbuffers
import numpy as np
import tflite
from tflite import BuiltinOperator, BuiltinOptions, TensorType


@dataclass
class T:
    shape: tuple
    dtype: int  # TensorType
    scale: list | None = None
    zero_point: list | None = None
    data: np.ndarray | None = None
    qdim: int = 0


def _vector(builder, start_fn, values, prepend):
    start_fn(builder, len(values))
    for v in reversed(values):
        prepend(v)
    return builder.EndVector()


def build_model(tensors: list[T], op_code: int, op_inputs, op_outputs, options=None) -> bytes:
    """One subgraph: tensor 0 is the input, the op's first output is the model output. `options` is
    (BuiltinOptions type, a function builder -> table offset) or None."""
    b = flatbuffers.Builder(1024)
    # Buffers: 0 is the empty sentinel, then one per constant tensor.
    buffer_ids, buffers = [], []
    for t in tensors:
        if t.data is None:
            buffer_ids.append(0)
            continue
        raw = np.ascontiguousarray(t.data).tobytes()
        data = b.CreateByteVector(raw)
        tflite.BufferStart(b)
        tflite.BufferAddData(b, data)
        buffers.append(tflite.BufferEnd(b))
        buffer_ids.append(len(buffers))
    tflite.BufferStart(b)
    empty = tflite.BufferEnd(b)
    buffers = [empty] + buffers

    tensor_offsets = []
    for i, t in enumerate(tensors):
        q = None
        if t.scale is not None:
            scale = _vector(b, tflite.QuantizationParametersStartScaleVector,
                            [float(s) for s in t.scale], b.PrependFloat32)
            zp = _vector(b, tflite.QuantizationParametersStartZeroPointVector,
                         [int(z) for z in t.zero_point], b.PrependInt64)
            tflite.QuantizationParametersStart(b)
            tflite.QuantizationParametersAddScale(b, scale)
            tflite.QuantizationParametersAddZeroPoint(b, zp)
            tflite.QuantizationParametersAddQuantizedDimension(b, t.qdim)
            q = tflite.QuantizationParametersEnd(b)
        shape = _vector(b, tflite.TensorStartShapeVector, list(t.shape), b.PrependInt32)
        name = b.CreateString(f"t{i}")
        tflite.TensorStart(b)
        tflite.TensorAddShape(b, shape)
        tflite.TensorAddType(b, t.dtype)
        tflite.TensorAddBuffer(b, buffer_ids[i])
        tflite.TensorAddName(b, name)
        if q is not None:
            tflite.TensorAddQuantization(b, q)
        tensor_offsets.append(tflite.TensorEnd(b))

    opts = options[1](b) if options else None
    ins = _vector(b, tflite.OperatorStartInputsVector, list(op_inputs), b.PrependInt32)
    outs = _vector(b, tflite.OperatorStartOutputsVector, list(op_outputs), b.PrependInt32)
    tflite.OperatorStart(b)
    tflite.OperatorAddOpcodeIndex(b, 0)
    tflite.OperatorAddInputs(b, ins)
    tflite.OperatorAddOutputs(b, outs)
    if options:
        tflite.OperatorAddBuiltinOptionsType(b, options[0])
        tflite.OperatorAddBuiltinOptions(b, opts)
    op = tflite.OperatorEnd(b)

    tvec = _vector(b, tflite.SubGraphStartTensorsVector, tensor_offsets, b.PrependUOffsetTRelative)
    gin = _vector(b, tflite.SubGraphStartInputsVector, [0], b.PrependInt32)
    gout = _vector(b, tflite.SubGraphStartOutputsVector, [op_outputs[0]], b.PrependInt32)
    ops = _vector(b, tflite.SubGraphStartOperatorsVector, [op], b.PrependUOffsetTRelative)
    tflite.SubGraphStart(b)
    tflite.SubGraphAddTensors(b, tvec)
    tflite.SubGraphAddInputs(b, gin)
    tflite.SubGraphAddOutputs(b, gout)
    tflite.SubGraphAddOperators(b, ops)
    sub = tflite.SubGraphEnd(b)

    tflite.OperatorCodeStart(b)
    tflite.OperatorCodeAddDeprecatedBuiltinCode(b, min(op_code, 127))
    tflite.OperatorCodeAddBuiltinCode(b, op_code)
    tflite.OperatorCodeAddVersion(b, 1)
    code = tflite.OperatorCodeEnd(b)

    codes = _vector(b, tflite.ModelStartOperatorCodesVector, [code], b.PrependUOffsetTRelative)
    subs = _vector(b, tflite.ModelStartSubgraphsVector, [sub], b.PrependUOffsetTRelative)
    bufs = _vector(b, tflite.ModelStartBuffersVector, buffers, b.PrependUOffsetTRelative)
    desc = b.CreateString("mobilenet-tiny test model")
    tflite.ModelStart(b)
    tflite.ModelAddVersion(b, 3)
    tflite.ModelAddOperatorCodes(b, codes)
    tflite.ModelAddSubgraphs(b, subs)
    tflite.ModelAddBuffers(b, bufs)
    tflite.ModelAddDescription(b, desc)
    b.Finish(tflite.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def requantize(shape, in_scale, in_zp, out_scale, out_zp) -> bytes:
    tensors = [T(shape, TensorType.INT8, [in_scale], [in_zp]), T(shape, TensorType.INT8, [out_scale], [out_zp])]
    return build_model(tensors, BuiltinOperator.QUANTIZE, [0], [1])


def _conv_tensors(seed, input_shape, weight_shape, qdim, extent, stride, padding, in_q, out_q,
                  per_tensor=False) -> list[T]:
    """Input, random per-channel int8 weights (channels along axis qdim; one scale for all with
    `per_tensor`), int32 bias and output tensors of a convolution whose window spans `extent` pixels; padding
    is the schema's enum (0 SAME, 1 VALID)."""
    rng = np.random.default_rng(seed)
    h, w, c = input_shape
    channels = weight_shape[qdim]
    weights = rng.integers(-127, 128, size=weight_shape, dtype=np.int8)
    bias = rng.integers(-2000, 2000, size=channels).astype(np.int32)
    w_scales = rng.uniform(0.002, 0.02, 1 if per_tensor else channels).astype(np.float32)
    out_h = (h + stride - 1) // stride if padding == 0 else (h - extent + stride) // stride
    out_w = (w + stride - 1) // stride if padding == 0 else (w - extent + stride) // stride
    return [
        T((1, h, w, c), TensorType.INT8, [in_q[0]], [in_q[1]]),
        T(weights.shape, TensorType.INT8, list(w_scales), [0] * len(w_scales), weights, qdim=qdim),
        T(bias.shape, TensorType.INT32, list(w_scales * in_q[0]), [0] * len(w_scales), bias),
        T((1, out_h, out_w, channels), TensorType.INT8, [out_q[0]], [out_q[1]]),
    ]


def conv2d_options(stride=1, dilation=1, activation=0, padding=0):
    def options(b):
        tflite.Conv2DOptionsStart(b)
        tflite.Conv2DOptionsAddPadding(b, padding)
        tflite.Conv2DOptionsAddStrideW(b, stride)
        tflite.Conv2DOptionsAddStrideH(b, stride)
        tflite.Conv2DOptionsAddFusedActivationFunction(b, activation)
        tflite.Conv2DOptionsAddDilationWFactor(b, dilation)
        tflite.Conv2DOptionsAddDilationHFactor(b, dilation)
        return tflite.Conv2DOptionsEnd(b)

    return BuiltinOptions.Conv2DOptions, options


def depthwise_options(stride=1, activation=0, padding=0, depth_multiplier=1):
    def options(b):
        tflite.DepthwiseConv2DOptionsStart(b)
        tflite.DepthwiseConv2DOptionsAddPadding(b, padding)
        tflite.DepthwiseConv2DOptionsAddStrideW(b, stride)
        tflite.DepthwiseConv2DOptionsAddStrideH(b, stride)
        tflite.DepthwiseConv2DOptionsAddDepthMultiplier(b, depth_multiplier)
        tflite.DepthwiseConv2DOptionsAddFusedActivationFunction(b, activation)
        tflite.DepthwiseConv2DOptionsAddDilationWFactor(b, 1)
        tflite.DepthwiseConv2DOptionsAddDilationHFactor(b, 1)
        return tflite.DepthwiseConv2DOptionsEnd(b)

    return BuiltinOptions.DepthwiseConv2DOptions, options


def fully_connected_options(activation=0):
    def options(b):
        tflite.FullyConnectedOptionsStart(b)
        tflite.FullyConnectedOptionsAddFusedActivationFunction(b, activation)
        return tflite.FullyConnectedOptionsEnd(b)

    return BuiltinOptions.FullyConnectedOptions, options


def conv2d(input_shape, filters, kernel, stride=1, dilation=1, activation=0, padding=0, seed=0,
           in_q=(0.02, -3), out_q=(0.05, 4), per_tensor=False) -> bytes:
    """CONV_2D with random per-channel (or `per_tensor`) int8 weights; activation and padding are the
    schema's enum values."""
    eff = (kernel - 1) * dilation + 1
    tensors = _conv_tensors(seed, input_shape, (filters, kernel, kernel, input_shape[2]), 0, eff, stride, padding,
                            in_q, out_q, per_tensor)
    return build_model(tensors, BuiltinOperator.CONV_2D, [0, 1, 2], [3],
                       conv2d_options(stride, dilation, activation, padding))


def depthwise_conv2d(input_shape, kernel, stride=1, activation=0, padding=0, seed=0, in_q=(0.02, -3),
                     out_q=(0.05, 4), per_tensor=False) -> bytes:
    """DEPTHWISE_CONV_2D (depth multiplier 1) with random per-channel int8 weights and a chosen output
    quantization, which picks the kernels' output stage form: a fused RELU with a zero point above -128 (the
    lower clamp), RELU_N1_TO_1 (both clamps), a tiny output scale (a multiplier above 1: the general form);
    one weight scale for all channels with `per_tensor`."""
    tensors = _conv_tensors(seed, input_shape, (1, kernel, kernel, input_shape[2]), 3, kernel, stride, padding,
                            in_q, out_q, per_tensor)
    return build_model(tensors, BuiltinOperator.DEPTHWISE_CONV_2D, [0, 1, 2], [3],
                       depthwise_options(stride, activation, padding))
