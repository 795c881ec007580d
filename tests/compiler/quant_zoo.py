"""A zoo of small int8 models for every operator the compiled runtime supports, each converted twice by the
TF converter: with per-channel weights (its default) and with per-tensor weights (the setting of older
converters and other toolchains, `_experimental_disable_per_channel`). Odd shapes on purpose.

Each entry: name -> (function keras -> (keras model, float input range)), so the models stay small enough
for thousands of inputs per test."""
import numpy as np


def fc_stack(keras):
    """MLPerf Tiny's anomaly-detection autoencoder: 640 -> 4 x 128 -> 8 -> 4 x 128 -> 640, 10 FC layers."""
    inputs = keras.Input((640,))
    x = inputs
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = keras.layers.Dense(units, activation="relu", bias_initializer="random_normal")(x)
    return keras.Model(inputs, keras.layers.Dense(640)(x)), (-3.0, 3.0)


def conv(keras):
    inputs = keras.Input((11, 9, 3))
    x = keras.layers.Conv2D(7, 3, strides=2, padding="same", activation="relu", bias_initializer="random_normal")(inputs)
    x = keras.layers.Conv2D(6, (2, 3), padding="valid", bias_initializer="random_normal")(x)
    x = keras.layers.Conv2D(5, 1, activation="relu")(x)
    return keras.Model(inputs, x), (-1.0, 1.0)


def depthwise(keras):
    inputs = keras.Input((13, 10, 5))
    x = keras.layers.DepthwiseConv2D(3, padding="same", bias_initializer="random_normal")(inputs)
    x = keras.layers.ReLU(6.0)(x)
    x = keras.layers.DepthwiseConv2D(5, strides=2, depth_multiplier=2, bias_initializer="random_normal")(x)
    return keras.Model(inputs, x), (-1.0, 1.0)


def add(keras):
    inputs = keras.Input((7, 5, 6))
    a = keras.layers.Conv2D(6, 1, bias_initializer="random_normal")(inputs)
    b = keras.layers.DepthwiseConv2D(3, padding="same")(inputs)
    x = keras.layers.ReLU()(keras.layers.Add()([a, b]))
    return keras.Model(inputs, keras.layers.Add()([x, keras.layers.Conv2D(6, 1)(x)])), (-1.0, 1.0)


def pool(keras):
    inputs = keras.Input((9, 11, 4))
    x = keras.layers.Conv2D(6, 1, bias_initializer="random_normal")(inputs)
    x = keras.layers.AveragePooling2D(3, strides=2, padding="same")(x)
    x = keras.layers.Conv2D(5, 1)(x)
    return keras.Model(inputs, keras.layers.MaxPooling2D(2, padding="valid")(x)), (-1.0, 1.0)


def mean(keras):
    inputs = keras.Input((7, 9, 10))
    x = keras.layers.Conv2D(12, 3, bias_initializer="random_normal")(inputs)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x)), (-1.0, 1.0)


def softmax(keras):
    inputs = keras.Input((30,))
    x = keras.layers.Dense(37, bias_initializer="random_normal")(inputs)
    return keras.Model(inputs, keras.layers.Softmax()(keras.layers.Dense(11)(x))), (-4.0, 4.0)


def hard_swish(keras):
    from mobilenet_tiny.tf_env import tf

    inputs = keras.Input((6, 9, 5))
    x = keras.layers.Conv2D(7, 3, padding="same", bias_initializer="random_normal")(inputs)
    x = keras.layers.Lambda(lambda t: t * tf.nn.relu6(t + 3.0) / 6.0)(x)  # HARD_SWISH
    return keras.Model(inputs, keras.layers.Conv2D(4, 1)(x)), (-2.0, 2.0)


ZOO = {f.__name__: f for f in (fc_stack, conv, depthwise, add, pool, mean, softmax, hard_swish)}


def build(name: str, per_tensor: bool, seed: int = 0) -> bytes:
    from mobilenet_tiny.tf_env import keras, tf

    tf.keras.utils.set_random_seed(seed)
    model, (lo, hi) = ZOO[name](keras)
    rep = np.random.default_rng(seed).uniform(lo, hi, size=(64, *model.input_shape[1:])).astype(np.float32)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[None]] for x in rep)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    converter._experimental_disable_per_channel = per_tensor
    return bytes(converter.convert())
