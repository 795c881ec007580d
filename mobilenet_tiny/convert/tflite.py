"""Full-integer TFLite conversion: int8 weights (per-channel) and activations, int8 input and output,
builtin ops only — the only kind of model TFLM's int8 kernels and our compiled runtime run."""
import numpy as np

from ..errors import UserError


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
        # The converter logs from C++ to fd 2 and warns about input statistics it does not need here.
        with capture_fd2(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return bytes(converter.convert())
    except Exception as e:  # the converter raises many types (ConverterError, ValueError, RuntimeError)
        first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise UserError(f"TFLite conversion failed: {first.strip()[:300]}") from None
