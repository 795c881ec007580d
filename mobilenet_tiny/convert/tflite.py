"""Full-integer TFLite conversion: int8 weights (per-channel) and activations, int8 input and output,
builtin ops only — the only kind of model TFLM's int8 kernels and our compiled runtime run."""
import os
import re

import numpy as np

from .. import interrupts
from ..errors import UserError, one_line

# Keras layers that do not become TFLite builtin ops (recurrent layers need TensorList ops / Select TF ops,
# preprocessing layers string or hash ops): the converter fails on them after seconds, with pages of MLIR
# diagnostics, so they are named up front.
UNSUPPORTED_LAYERS = {"LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional", "ConvLSTM1D", "ConvLSTM2D",
                      "ConvLSTM3D", "LSTMCell", "GRUCell", "SimpleRNNCell", "StackedRNNCells", "TextVectorization",
                      "StringLookup", "IntegerLookup", "Hashing", "CategoryEncoding"}


def check_layers(model, source: str):
    """One line naming the first layer (nested models and QAT wrappers included) convert cannot handle."""
    pending = list(model.layers)
    while pending:
        layer = pending.pop(0)
        inner = getattr(layer, "layer", None)  # tfmot's QuantizeWrapper, keras' Wrapper
        if inner is not None and type(layer).__name__ not in UNSUPPORTED_LAYERS:
            pending.insert(0, inner)
        kind = type(layer).__name__
        if kind in UNSUPPORTED_LAYERS:
            raise UserError(f"{source}: layer {layer.name!r} ({kind}) is not supported: convert makes int8 "
                            "models of convolution, dense, pooling and element-wise layers for TFLM's builtin ops")
        pending[:0] = [sub for sub in getattr(layer, "layers", []) if sub is not layer]


def converter_complaint(error: Exception) -> str:
    """The converter's error in one line: the MLIR diagnostic's message (without its source location) and
    the TF ops it names, not the first of hundreds of lines."""
    text = str(error)
    messages = [ln.split("error: ", 1)[1].strip() for ln in text.splitlines() if "error: " in ln]
    # The most specific diagnostic names an op ('tf.X' op ...); the generic ones suggest converter flags.
    specific = [m for m in messages if re.search(r"'tf\.\w+' op", m)]
    first = (specific or messages or [ln for ln in text.splitlines() if ln.strip()] or [type(error).__name__])[0]
    return one_line(first)[:300]


def keras_to_int8_tflite(model, representative, *, max_samples: int = 256) -> bytes:
    """Convert a float or QAT tf_keras model to a full-int8 .tflite.

    `representative`: float32 NHWC images in the model's input range ([0, 1] here). For a float model it
    calibrates the activation ranges (post-training quantization); for a QAT model the ranges come from
    training and TF ignores it, but still requires one.
    """
    from ..tf_env import tf

    rep = np.asarray(representative, dtype=np.float32)
    if rep.ndim != 4 or len(rep) == 0:
        raise UserError(f"representative data must be a non-empty NHWC batch, got shape {rep.shape}")
    want = tuple(model.input_shape[1:])
    if tuple(rep.shape[1:]) != want:
        raise UserError(f"data shape {tuple(rep.shape[1:])} does not match the model input {want}")
    rep = rep[:max_samples]

    def samples():
        for x in rep:
            yield [x[None]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = samples
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    import warnings

    from ..stderr_capture import capture_fd2

    try:
        # The converter logs from C++ to fd 2 (pages of MLIR diagnostics when it fails) and warns about input
        # statistics it does not need here; the error below says what failed in one line.
        with capture_fd2(replay_on_error=bool(os.environ.get("MOBILENET_TINY_DEBUG"))), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            model_bytes = bytes(converter.convert())
    except Exception as e:  # the converter raises many types (ConverterError, ValueError, RuntimeError)
        raise UserError(f"TFLite conversion failed: {converter_complaint(e)}") from None
    interrupts.check()  # the calibration drops a Ctrl-C that arrives while it calls `samples` from C++
    return model_bytes
