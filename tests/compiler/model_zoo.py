"""Small int8 .tflite models for the compiler tests, built with real tf_keras + the project's converter.

Random weights alone make untrained MobileNets collapse their activation ranges (see
shared/notes/tensorflow-qat.md): every BatchNormalization gets randomized gamma/beta/moving statistics,
and the MobileNets get a short training run on the built-in `shapes` set so their outputs depend on the
image (a collapsed model would make the end-to-end comparison weak); BatchNorm momentum 0 during that run
calibrates the moving statistics to the images.
"""
import numpy as np


def randomize_batchnorm(model, seed: int) -> None:
    from mobilenet_tiny.tf_env import keras

    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            values = []
            for w in layer.weights:
                n = w.shape[0]
                name = w.name.split("/")[-1]
                if name.startswith("gamma"):
                    values.append(rng.uniform(0.5, 1.5, n))
                elif name.startswith("beta"):
                    values.append(rng.uniform(-0.2, 0.4, n))
                elif name.startswith("moving_mean"):
                    values.append(rng.normal(0.0, 0.2, n))
                else:
                    values.append(rng.uniform(0.5, 2.0, n))
            layer.set_weights([v.astype(np.float32) for v in values])


def shapes_images(input_shape, count: int, seed: int):
    """(float32 images in [0, 1], uint8 images, labels) from the built-in `shapes` set."""
    from mobilenet_tiny.data.builtin import draw_shapes

    pixels, labels = draw_shapes(count, tuple(input_shape), seed)
    return pixels.astype(np.float32) / 255.0, pixels, labels


def to_int8_tflite(model, representative: np.ndarray) -> bytes:
    """The project's converter for image models; vector-input test models (which it rightly rejects as
    images) go through the same TFLiteConverter settings directly."""
    if representative.ndim == 4:
        from mobilenet_tiny.convert.tflite import keras_to_int8_tflite

        return keras_to_int8_tflite(model, representative)
    from mobilenet_tiny.tf_env import tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[None]] for x in representative)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return bytes(converter.convert())


def _train_briefly(model, input_shape, seed: int, epochs: int):
    from mobilenet_tiny.tf_env import keras

    x, _, y = shapes_images(input_shape, 256, seed)
    for layer in model.layers:  # moving statistics = the last batch's: calibrated to real images
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.0
    n_out = model.output_shape[-1]
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    model.fit(x, y % n_out, epochs=epochs, batch_size=32, verbose=0, shuffle=False)
    return x


def mobilenet(arch: str, input_shape=(96, 96, 1), alpha=None, num_classes=4, seed=0, epochs=1) -> bytes:
    from mobilenet_tiny.models import build_model
    from mobilenet_tiny.tf_env import tf

    tf.keras.utils.set_random_seed(seed)
    model = build_model(arch, input_shape=input_shape, alpha=alpha, num_classes=num_classes)
    randomize_batchnorm(model, seed)
    x = _train_briefly(model, input_shape, seed, epochs) if epochs else shapes_images(input_shape, 64, seed)[0]
    return to_int8_tflite(model, x[:64])


def keras_application(kind: str, input_shape=(96, 96, 3), alpha=0.25, num_classes=4, seed=0) -> bytes:
    """keras.applications MobileNet / MobileNetV2 with random weights (the top as keras builds it)."""
    from mobilenet_tiny.tf_env import keras, tf

    tf.keras.utils.set_random_seed(seed)
    builder = {"mobilenet": keras.applications.MobileNet, "mobilenet_v2": keras.applications.MobileNetV2}[kind]
    model = builder(input_shape=input_shape, alpha=alpha, weights=None, classes=num_classes)
    randomize_batchnorm(model, seed)
    x = _train_briefly(model, input_shape, seed, 1)
    return to_int8_tflite(model, x[:64])


def vww_topology(input_shape=(96, 96, 3), seed=0) -> bytes:
    """MLPerf Tiny visual-wake-words head on MobileNetV1 α0.25: AVERAGE_POOL_2D + RESHAPE + FC + SOFTMAX."""
    from mobilenet_tiny.models import build_model
    from mobilenet_tiny.tf_env import keras, tf

    tf.keras.utils.set_random_seed(seed)
    base = build_model("v1", input_shape=input_shape, alpha=0.25, num_classes=2)
    features = base.get_layer("conv_pw_13_relu").output
    x = keras.layers.AveragePooling2D(pool_size=features.shape[1:3], name="avg_pool")(features)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(2, name="dense")(x)
    out = keras.layers.Softmax(name="softmax")(x)
    model = keras.Model(base.input, out, name="vww")
    randomize_batchnorm(model, seed)
    x = _train_briefly(model, input_shape, seed, 1)
    return to_int8_tflite(model, x[:64])


def single_layer(layer_fn, input_shape, seed: int, input_range=(0.0, 1.0)) -> bytes:
    """A model of one keras layer (or a small function of the input), calibrated on random data."""
    from mobilenet_tiny.tf_env import keras, tf

    tf.keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=input_shape)
    model = keras.Model(inputs, layer_fn(inputs))
    rng = np.random.default_rng(seed)
    lo, hi = input_range
    rep = rng.uniform(lo, hi, size=(32, *input_shape)).astype(np.float32)
    return to_int8_tflite(model, rep)
