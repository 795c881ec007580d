"""Anything the compiled runtime cannot run is refused with one line naming the operator and tensor, and
nothing is written."""
import numpy as np
import pytest

from compiler_helpers import cached_model
from mobilenet_tiny.compiler import compile_model
from mobilenet_tiny.errors import UserError


def _compile_fails(model_bytes, tmp_path, *needles):
    with pytest.raises(UserError) as info:
        compile_model(model_bytes, tmp_path / "out", "model")
    message = str(info.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
    assert not (tmp_path / "out" / "model.c").exists() and not (tmp_path / "out" / "model.h").exists()
    return message


def test_unsupported_operator_is_named(zoo, tmp_path):
    from mobilenet_tiny.tf_env import keras

    model = cached_model("err-logistic", lambda: zoo.single_layer(
        lambda x: keras.layers.Activation("sigmoid")(keras.layers.Conv2D(2, 1)(x)), (4, 4, 1), 0), op="sigmoid")
    _compile_fails(model, tmp_path, "LOGISTIC", "not supported", "tensor")


def test_dilation_is_refused(tmp_path):
    # The TF converter turns dilated convolutions into SPACE_TO_BATCH_ND + CONV_2D (refused as an
    # unsupported op); a CONV_2D that keeps its dilation factor is written directly with the schema.
    import flatbuffer_models

    _compile_fails(flatbuffer_models.conv2d((9, 9, 2), 3, 3, dilation=2), tmp_path, "CONV_2D", "dilation", "t3")


def test_space_to_batch_from_dilated_keras_conv_is_named(zoo, tmp_path):
    from mobilenet_tiny.tf_env import keras

    model = cached_model("err-dilation", lambda: zoo.single_layer(
        lambda x: keras.layers.Conv2D(2, 3, dilation_rate=2)(x), (9, 9, 1), 0), op="dilated conv")
    _compile_fails(model, tmp_path, "SPACE_TO_BATCH_ND", "not supported")


def test_float_model_is_refused(tmp_path):
    from mobilenet_tiny.tf_env import keras, tf

    def build():
        inputs = keras.Input((4, 4, 1))
        model = keras.Model(inputs, keras.layers.Conv2D(2, 1)(inputs))
        return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())

    model = cached_model("err-float", build, kind="float conv")
    _compile_fails(model, tmp_path, "CONV_2D", "float32", "int8")


def test_int16_activations_are_refused(tmp_path):
    from mobilenet_tiny.tf_env import keras, tf

    def build():
        inputs = keras.Input((4, 4, 1))
        model = keras.Model(inputs, keras.layers.Conv2D(2, 1)(inputs))
        conv = tf.lite.TFLiteConverter.from_keras_model(model)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([np.random.default_rng(0).random((1, 4, 4, 1), np.float32)]
                                               for _ in range(8))
        conv.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        conv.inference_input_type = tf.int16
        conv.inference_output_type = tf.int16
        return bytes(conv.convert())

    model = cached_model("err-int16", build, kind="16x8 conv")
    _compile_fails(model, tmp_path, "int16")


@pytest.mark.parametrize("data", [b"", b"hello world, not a model", b"\x00" * 64])
def test_not_a_model(data, tmp_path):
    _compile_fails(data, tmp_path, "TFLite")


def test_truncated_model(zoo, tmp_path):
    from mobilenet_tiny.tf_env import keras

    model = cached_model("ok-conv", lambda: zoo.single_layer(lambda x: keras.layers.Conv2D(2, 1)(x), (4, 4, 1), 0),
                         op="conv")
    _compile_fails(model[: len(model) // 2], tmp_path, "TFLite model")


def test_bad_name_and_labels(zoo, tmp_path):
    from mobilenet_tiny.tf_env import keras

    model = cached_model("ok-conv", lambda: zoo.single_layer(lambda x: keras.layers.Conv2D(2, 1)(x), (4, 4, 1), 0),
                         op="conv")
    with pytest.raises(UserError, match="C identifier"):
        compile_model(model, tmp_path, "my-model")
    with pytest.raises(UserError, match="labels"):
        compile_model(model, tmp_path, "model", labels=["just one"])
