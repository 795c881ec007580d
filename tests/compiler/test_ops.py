"""Per-operator tests: single-op tf_keras models converted to int8 over seeded sweeps of shapes, strides,
paddings, channel counts, activations and quantization ranges, each compiled and compared with TFLM."""
import numpy as np
import pytest

import op_cases
from compiler_helpers import assert_matches_tflm, cached_model, op_inputs


def _check(name: str, build, params):
    model_bytes = cached_model(name, build, **params)
    assert_matches_tflm(model_bytes, op_inputs(model_bytes), label=f"{name} {params}")
    return model_bytes


@pytest.mark.parametrize("seed", range(12))
def test_conv2d(zoo, seed):
    _check(*op_cases.conv2d(zoo, seed))


@pytest.mark.parametrize("seed", range(10))
def test_depthwise_conv2d(zoo, seed):
    _check(*op_cases.depthwise_conv2d(zoo, seed))


@pytest.mark.parametrize("seed", range(op_cases.DEPTHWISE_3X3_COUNT))
def test_depthwise_3x3(zoo, seed):
    _check(*op_cases.depthwise_3x3(zoo, seed))


@pytest.mark.parametrize("seed", range(6))
def test_fully_connected(zoo, seed):
    _check(*op_cases.fully_connected(zoo, seed))


@pytest.mark.parametrize("seed", range(5))
def test_softmax(zoo, seed):
    from mobilenet_tiny.tf_env import keras

    rng = np.random.default_rng(400 + seed)
    p = dict(n=int(rng.choice([2, 3, 10, 37])), spread=float(rng.choice([0.5, 4.0, 20.0, 60.0])))

    def layer(x):
        return keras.layers.Softmax()(x)

    _check(f"softmax-{seed}", lambda: zoo.single_layer(layer, (p["n"],), seed, (-p["spread"], p["spread"])), p)


@pytest.mark.parametrize("seed", range(4))
def test_mean(zoo, seed):
    from mobilenet_tiny.tf_env import keras

    rng = np.random.default_rng(500 + seed)
    p = dict(h=int(rng.integers(1, 12)), w=int(rng.integers(1, 12)), c=int(rng.choice([1, 5, 32])),
             keepdims=bool(seed % 2), lo=float(rng.choice([0.0, -1.0])))

    def layer(x):
        return keras.layers.GlobalAveragePooling2D(keepdims=p["keepdims"])(x)

    _check(f"mean-{seed}", lambda: zoo.single_layer(layer, (p["h"], p["w"], p["c"]), seed, (p["lo"], 1.0)), p)


@pytest.mark.parametrize("seed", range(8))
def test_pooling(zoo, seed):
    from mobilenet_tiny.tf_env import keras

    rng = np.random.default_rng(600 + seed)
    k = int(rng.choice([1, 2, 3, 4]))
    p = dict(kind="avg" if seed % 2 else "max", k=k, stride=int(rng.choice([1, 2, 3])),
             padding=str(rng.choice(["same", "valid"])), h=int(rng.integers(k, 13)), w=int(rng.integers(k, 13)),
             c=int(rng.choice([1, 3, 8])), lo=float(rng.choice([0.0, -1.0])))

    def layer(x):
        cls = keras.layers.AveragePooling2D if p["kind"] == "avg" else keras.layers.MaxPooling2D
        return cls(p["k"], strides=p["stride"], padding=p["padding"])(x)

    _check(f"pool-{seed}", lambda: zoo.single_layer(layer, (p["h"], p["w"], p["c"]), seed, (p["lo"], 1.0)), p)


@pytest.mark.parametrize("seed", range(3))
def test_pad(zoo, seed):
    from mobilenet_tiny.tf_env import keras

    rng = np.random.default_rng(700 + seed)
    p = dict(pads=[[int(v) for v in rng.integers(0, 3, 2)] for _ in range(2)], h=int(rng.integers(1, 9)),
             w=int(rng.integers(1, 9)), c=int(rng.choice([1, 3, 8])), lo=float(rng.choice([0.0, -1.0])))

    def layer(x):
        return keras.layers.ZeroPadding2D(tuple(tuple(v) for v in p["pads"]))(x)

    _check(f"pad-{seed}", lambda: zoo.single_layer(layer, (p["h"], p["w"], p["c"]), seed, (p["lo"], 1.0)), p)


@pytest.mark.parametrize("seed", range(4))
def test_add(zoo, seed):
    model_bytes = _check(*op_cases.add(zoo, seed))
    from mobilenet_tiny.compiler.reader import read_model

    assert "ADD" in [op.name for op in read_model(model_bytes).operators]


@pytest.mark.parametrize("seed", range(6))
def test_quantize_int8_to_int8(seed):
    """QUANTIZE between two int8 scales (the converter emits it only in special graphs; written directly)."""
    import flatbuffer_models
    from mobilenet_tiny.interpreters import TflmInterpreter

    rng = np.random.default_rng(900 + seed)
    shape = (1, int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 9)))
    model_bytes = flatbuffer_models.requantize(shape, float(rng.uniform(0.001, 0.1)), int(rng.integers(-128, 128)),
                                               float(rng.uniform(0.001, 0.1)), int(rng.integers(-128, 128)))
    assert_matches_tflm(model_bytes, op_inputs(model_bytes), label=f"quantize-{seed}")
    assert TflmInterpreter(model_bytes).output_details.dtype == np.int8


@pytest.mark.parametrize("activation,padding,stride", [(2, 0, 1), (2, 1, 2), (3, 1, 1), (1, 0, 3)])
def test_fused_activations_written_directly(activation, padding, stride):
    """RELU_N1_TO_1 (2), RELU6 (3), RELU (1) fused into a CONV_2D with chosen quantization."""
    import flatbuffer_models

    model_bytes = flatbuffer_models.conv2d((7, 8, 3), 4, 3, stride=stride, activation=activation,
                                           padding=padding, seed=activation, out_q=(0.01, -20))
    assert_matches_tflm(model_bytes, op_inputs(model_bytes), label=f"act {activation}")


@pytest.mark.parametrize("index", range(len(op_cases.output_stage_forms())))
def test_output_stage_forms(index):
    label, build = op_cases.output_stage_forms()[index]
    model_bytes = build()
    assert_matches_tflm(model_bytes, op_inputs(model_bytes), label=label)


@pytest.mark.parametrize("index", range(len(op_cases.dot_shapes())))
def test_dot_routine_shapes(index):
    """The shapes of the DSP dot routine's own paths, on the host's portable C."""
    label, build = op_cases.dot_shapes()[index]
    model_bytes = build()
    assert_matches_tflm(model_bytes, op_inputs(model_bytes), label=label)


def _hard_swish(tf, x):
    return x * tf.nn.relu6(x + 3.0) / 6.0  # the TF converter turns this into HARD_SWISH


@pytest.mark.parametrize("seed", range(3))
def test_hard_swish(zoo, seed):
    from mobilenet_tiny.compiler.reader import read_model
    from mobilenet_tiny.tf_env import keras, tf

    rng = np.random.default_rng(1000 + seed)
    p = dict(h=int(rng.integers(1, 9)), w=int(rng.integers(1, 9)), c=int(rng.choice([1, 3, 8])),
             spread=float(rng.choice([1.0, 4.0, 12.0])))

    def layer(x):
        return keras.layers.Lambda(lambda t: _hard_swish(tf, t))(keras.layers.Conv2D(p["c"], 1)(x))

    model = _check(f"hard-swish-{seed}", lambda: zoo.single_layer(layer, (p["h"], p["w"], p["c"]), seed,
                                                                  (-p["spread"], p["spread"])), p)
    assert "HARD_SWISH" in [op.name for op in read_model(model).operators]


@pytest.mark.parametrize("seed", range(2))
def test_relu_as_an_operator(zoo, seed):
    from mobilenet_tiny.compiler.reader import read_model
    from mobilenet_tiny.tf_env import keras

    p = dict(lo=[-1.0, -5.0][seed], hi=[1.0, 0.5][seed])
    model = _check(f"relu-{seed}", lambda: zoo.single_layer(lambda x: keras.layers.ReLU()(x), (5, 7, 3), seed,
                                                            (p["lo"], p["hi"])), p)
    assert [op.name for op in read_model(model).operators] == ["RELU"]


@pytest.mark.parametrize("seed", range(2))
def test_relu6_as_an_operator(zoo, seed):
    from mobilenet_tiny.compiler.reader import read_model
    from mobilenet_tiny.tf_env import keras

    p = dict(lo=[-1.0, -8.0][seed], hi=[7.5, 3.0][seed])
    model = _check(f"relu6-{seed}", lambda: zoo.single_layer(lambda x: keras.layers.ReLU(6.0)(x), (6, 5, 4), seed,
                                                             (p["lo"], p["hi"])), p)
    assert [op.name for op in read_model(model).operators] == ["RELU6"]


@pytest.mark.parametrize("op", ["HARD_SWISH", "RELU", "RELU6"])
def test_elementwise_op_on_every_input_value(op):
    """Written directly: all 256 int8 values through the operator for 6 random scale pairs (the converter
    ties the output scale to the input's range; TFLM does not)."""
    import flatbuffer_models as fm
    from tflite import BuiltinOperator, TensorType

    rng = np.random.default_rng(len(op))
    every_value = np.arange(-128, 128, dtype=np.int8).reshape(1, 16, 16, 1)
    for i in range(6):
        s_in, s_out = (float(np.float32(v)) for v in rng.uniform(0.004, 0.1, 2))
        z_in, z_out = (int(v) for v in rng.integers(-100, 100, 2))
        tensors = [fm.T((1, 16, 16, 1), TensorType.INT8, [s_in], [z_in]),
                   fm.T((1, 16, 16, 1), TensorType.INT8, [s_out], [z_out])]
        model = fm.build_model(tensors, getattr(BuiltinOperator, op), [0], [1])
        assert_matches_tflm(model, every_value, label=f"{op} {i} {s_in:.4g}/{s_out:.4g}")
