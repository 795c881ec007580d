"""The Arm DSP path (ACLE intrinsics, Cortex-M4) built with arm-none-eabi-gcc and run under QEMU mps2-an386
(the benchmark harness: the firmware's runtime and board code with a driver that runs linked-in inputs)
gives the same bytes as the portable path built the same way, and both equal the host TFLM interpreter;
likewise the Helium (MVE) path on the Cortex-M55 under QEMU mps3-an547."""
import shutil

import numpy as np
import pytest

import op_cases
from compiler_helpers import cached_model, make_inputs

pytestmark = [pytest.mark.qemu, pytest.mark.slow, pytest.mark.skipif(
    not (shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")),
    reason="needs arm-none-eabi-gcc and qemu-system-arm")]


def _dsp_on_m4(model_bytes, inputs, tmp_path, opt="-O2", runtime="compiled"):
    from mobilenet_tiny.device.bench import bench_model

    return bench_model(model_bytes, "qemu_m4", runtime, inputs=inputs, workdir=tmp_path, opt=opt)


def _run_both_paths(model_bytes, inputs, tmp_path, opt="-O2"):
    from mobilenet_tiny.interpreters import TflmInterpreter

    dsp = _dsp_on_m4(model_bytes, inputs, tmp_path / "dsp", opt)
    portable = _dsp_on_m4(model_bytes, inputs, tmp_path / "portable", opt, runtime="compiled-portable")
    ref = TflmInterpreter(model_bytes).run_batch(inputs).reshape(len(inputs), -1)
    assert np.array_equal(dsp.outputs, portable.outputs), "DSP and portable paths differ"
    assert np.array_equal(dsp.outputs, ref), "Cortex-M4 outputs differ from TFLM"
    return dsp, portable


@pytest.mark.parametrize("arch", ["v1", "v2"])
def test_mobilenet_dsp_equals_portable_equals_tflm(zoo, arch, tmp_path):
    model = cached_model(f"{arch}-gray", lambda: zoo.mobilenet(arch, (96, 96, 1)), arch=arch, shape="96x96x1")
    inputs = make_inputs(model, n_random=1, n_images=1)[[0, 2, -1]]  # random, all 127, one image
    dsp, portable = _run_both_paths(model, inputs, tmp_path)
    # The DSP path must actually be faster, or it is not in use.
    assert dsp.instructions_per_inference < 0.6 * portable.instructions_per_inference


def _edge_case_model(zoo):
    """Odd pixel and channel counts, im2col with padding, depth multiplier 2, per-tensor FC — the tails and
    fallbacks of the DSP and Helium kernels — in one small model."""
    from mobilenet_tiny.tf_env import keras

    def layers(x):
        x = keras.layers.Conv2D(5, 3, strides=2, padding="same", activation="relu")(x)   # im2col, odd out_c
        x = keras.layers.DepthwiseConv2D(3, padding="same", bias_initializer="random_normal")(x)  # 5 channels
        x = keras.layers.ReLU(6.0)(x)
        x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="valid")(x)  # scalar fallback
        x = keras.layers.Conv2D(7, 1, bias_initializer="random_normal")(x)  # pointwise, odd pixels
        a = keras.layers.Conv2D(7, 1)(x)
        x = keras.layers.Add()([x, a])
        x = keras.layers.AveragePooling2D(2, padding="same")(x)
        x = keras.layers.Flatten()(x)
        x = keras.layers.Dense(11)(x)
        return keras.layers.Softmax()(x)

    return cached_model("qemu-edges", lambda: zoo.single_layer(layers, (13, 11, 3), 3, (-1.0, 1.0)), kind="edges")


@pytest.mark.parametrize("opt", ["-O2", "-Os", "-O0"])
def test_kernel_edge_cases_on_cortex_m4(zoo, tmp_path, opt):
    """Odd pixel and channel counts, im2col with padding, depth multiplier 2, per-tensor FC — the tails and
    fallbacks of the DSP kernels — in one small model; at -Os (PlatformIO's release builds) and at -O0, where
    the DSP path runs its C versions of the hand-scheduled blocks."""
    model = _edge_case_model(zoo)
    inputs = make_inputs(model, n_random=6, n_images=2)
    _run_both_paths(model, inputs, tmp_path, opt)


CASES = [("conv2d", s) for s in range(12)] + [("depthwise_conv2d", s) for s in range(10)] + \
        [("fully_connected", s) for s in range(6)]
DEPTHWISE_3X3_CASES = [("depthwise_3x3", s) for s in range(op_cases.DEPTHWISE_3X3_COUNT)]


@pytest.mark.parametrize("kind,seed", CASES + DEPTHWISE_3X3_CASES)
def test_op_sweep_on_cortex_m4(zoo, kind, seed, tmp_path):
    """The host per-op sweep's models (the same cached bytes) through the DSP path: every tail of the
    hand-scheduled loops (odd filters, odd pixels, channels not a multiple of 4, non-3x3 windows, each output
    stage form) against TFLM."""
    import op_cases
    from compiler_helpers import op_inputs
    from mobilenet_tiny.interpreters import TflmInterpreter

    name, build, params = getattr(op_cases, kind)(zoo, seed)
    model = cached_model(name, build, **params)
    inputs = op_inputs(model, n=5)
    result = _dsp_on_m4(model, inputs, tmp_path)
    ref = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)
    assert np.array_equal(result.outputs, ref), f"{name} {params}: Cortex-M4 DSP path differs from TFLM"


@pytest.mark.parametrize("seed", op_cases.DEPTHWISE_3X3_WHOLE_LAYER)
def test_depthwise_3x3_whole_layer_on_cortex_m4(zoo, seed, tmp_path):
    """The 3x3 cases whose kernel path depends on a layer's height (six-output chunks) layer by layer
    (`--memory fast`): the default schedule may run a single layer in bands of a few rows."""
    import op_cases
    from compiler_helpers import op_inputs
    from mobilenet_tiny.device.bench import bench_model
    from mobilenet_tiny.interpreters import TflmInterpreter

    name, build, params = op_cases.depthwise_3x3(zoo, seed)
    model = cached_model(name, build, **params)
    inputs = op_inputs(model, n=3)
    result = bench_model(model, "qemu_m4", "compiled", inputs=inputs, workdir=tmp_path, memory="fast")
    ref = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)
    assert np.array_equal(result.outputs, ref), f"{name} {params}: Cortex-M4 DSP path differs from TFLM"


@pytest.mark.parametrize("opt", ["-Os", "-O0"])
def test_depthwise_3x3_at_other_optimisations(zoo, opt, tmp_path):
    """The 3x3 depthwise cases (planar rows, two-pixel lanes) at -Os, where GCC allocates the hand-scheduled
    blocks' registers differently, and at -O0, where the DSP path runs its C versions."""
    import op_cases
    from compiler_helpers import op_inputs
    from mobilenet_tiny.interpreters import TflmInterpreter

    for kind, seed in DEPTHWISE_3X3_CASES:
        name, build, params = getattr(op_cases, kind)(zoo, seed)
        model = cached_model(name, build, **params)
        inputs = op_inputs(model, n=3)
        result = _dsp_on_m4(model, inputs, tmp_path / name, opt)
        ref = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)
        assert np.array_equal(result.outputs, ref), f"{name} {params} at {opt}: Cortex-M4 DSP path differs from TFLM"


def _case_on_m4(label: str, build, n: int, tmp_path):
    """One op_cases model on the Cortex-M4 DSP path against TFLM."""
    from compiler_helpers import op_inputs
    from mobilenet_tiny.interpreters import TflmInterpreter

    model = build()
    inputs = op_inputs(model, n=n)
    result = _dsp_on_m4(model, inputs, tmp_path)
    ref = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)
    assert np.array_equal(result.outputs, ref), f"{label}: Cortex-M4 DSP path differs from TFLM"


@pytest.mark.parametrize("index", range(len(op_cases.output_stage_forms())))
def test_output_stage_forms_on_cortex_m4(index, tmp_path):
    """Each output stage form of the DSP kernels (lower clamp, both clamps, general) against TFLM."""
    _case_on_m4(*op_cases.output_stage_forms()[index], 6, tmp_path)


@pytest.mark.parametrize("index", range(len(op_cases.dot_shapes())))
def test_dot_routine_shapes_on_cortex_m4(index, tmp_path):
    """The DSP dot routine's own paths (op_cases.dot_shapes: pointwise rows of 4 to 20 values, part groups,
    each clamp form, per-tensor weights, one- and three-channel 3x3 first layers) against TFLM."""
    _case_on_m4(*op_cases.dot_shapes()[index], 5, tmp_path)


@pytest.mark.parametrize("opt", ["-Os", "-O0"])
def test_dot_routine_windows_at_other_optimisations(opt, tmp_path):
    """The 3x3 first-layer shapes of op_cases.dot_shapes at -Os and -O0 too, where GCC compiles the window
    path's C (its per-row inner columns, the groups a call) differently."""
    import op_cases
    from compiler_helpers import op_inputs
    from mobilenet_tiny.interpreters import TflmInterpreter

    for label, build in [case for case in op_cases.dot_shapes() if case[0].startswith("3x3")]:
        model = build()
        inputs = op_inputs(model, n=4)
        result = _dsp_on_m4(model, inputs, tmp_path / label.replace(" ", "_"), opt)
        ref = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)
        assert np.array_equal(result.outputs, ref), f"{label} at {opt}: Cortex-M4 DSP path differs from TFLM"


@pytest.mark.parametrize("opt", ["-Os", "-O0"])
def test_dot_routine_written_out_loops_at_other_optimisations(opt, tmp_path):
    """The written-out pair loops (two pairs a pass) at -Os and -O0 too, where GCC compiles the job's set-up
    (the sign-term flag among it) differently: 8, 16 and 24 values, odd and even pair counts, with and
    without the sign term."""
    import op_cases
    from compiler_helpers import op_inputs
    from mobilenet_tiny.interpreters import TflmInterpreter

    labels = {"pointwise k8", "pointwise k8 zero point -128", "pointwise k16 relu odd pairs",
              "pointwise k16 odd pairs", "pointwise k24 relu6 zero point -128", "pointwise k24 one pair"}
    for label, build in [case for case in op_cases.dot_shapes() if case[0] in labels]:
        model = build()
        inputs = op_inputs(model, n=4)
        result = _dsp_on_m4(model, inputs, tmp_path / label.replace(" ", "_"), opt)
        ref = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)
        assert np.array_equal(result.outputs, ref), f"{label} at {opt}: Cortex-M4 DSP path differs from TFLM"


@pytest.mark.parametrize("opt", ["-Os", "-O0"])
def test_in_place_window_conv_at_other_optimisations(opt, tmp_path):
    """The one- and three-channel 3x3 CONV_2D path (rows read in place, border pixels through im2col) at -Os
    and -O0 too, where GCC schedules its C differently (the -O2 build runs in the output-stage forms above)."""
    import op_cases
    from compiler_helpers import op_inputs
    from mobilenet_tiny.interpreters import TflmInterpreter

    for label, build in op_cases.output_stage_forms()[-4:]:
        model = build()
        inputs = op_inputs(model, n=6)
        result = _dsp_on_m4(model, inputs, tmp_path / label.replace(" ", "_"), opt)
        ref = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)
        assert np.array_equal(result.outputs, ref), f"{label} at {opt}: Cortex-M4 DSP path differs from TFLM"


# Helium (MVE, arm_mve.h) on the Cortex-M55: qemu_m55 (mps3-an547), whose QEMU executes MVE.

def _on_m55(model_bytes, inputs, tmp_path, opt="-O2", runtime="compiled", memory="balanced"):
    from mobilenet_tiny.device.bench import bench_model

    return bench_model(model_bytes, "qemu_m55", runtime, inputs=inputs, workdir=tmp_path, opt=opt, memory=memory)


def _helium_equals_tflm(model, inputs, tmp_path, label, opt="-O2", memory="balanced"):
    from mobilenet_tiny.interpreters import TflmInterpreter

    result = _on_m55(model, inputs, tmp_path, opt, memory=memory)
    ref = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)
    assert np.array_equal(result.outputs, ref), \
        f"{label} at {opt}, memory {memory}: Cortex-M55 Helium path differs from TFLM"
    return result


@pytest.mark.parametrize("arch", ["v1", "v2"])
def test_mobilenet_helium_equals_dsp_equals_tflm(zoo, arch, tmp_path):
    model = cached_model(f"{arch}-gray", lambda: zoo.mobilenet(arch, (96, 96, 1)), arch=arch, shape="96x96x1")
    inputs = make_inputs(model, n_random=1, n_images=1)[[0, 2, -1]]  # random, all 127, one image
    helium = _helium_equals_tflm(model, inputs, tmp_path / "helium", arch)
    dsp = _on_m55(model, inputs, tmp_path / "dsp", runtime="compiled-dsp")
    assert np.array_equal(helium.outputs, dsp.outputs), "Helium and DSP paths differ"
    # Helium must actually be faster, or it is not in use.
    assert helium.instructions_per_inference < 0.8 * dsp.instructions_per_inference


# Models this project did not make (keras.applications, converted with the stock int8 settings): every Arm
# SIMD path this project ships, on them too, not only on the zoo's own builders.
@pytest.mark.parametrize("board", ["qemu_m4", "qemu_m55"])
@pytest.mark.parametrize("name", ["keras_mobilenet_a025", "keras_mobilenet_v2_a035"])
def test_keras_applications_on_the_simd_paths(name, board, tmp_path):
    from compiler_helpers import zoo_model
    from mobilenet_tiny.device.bench import bench_model
    from mobilenet_tiny.interpreters import TflmInterpreter

    model = zoo_model(name)
    inputs = make_inputs(model, n_random=2, n_images=2)[[0, 1, 2, 3, -2, -1]]  # random, extremes, images
    simd = bench_model(model, board, "compiled", inputs=inputs, workdir=tmp_path / "simd")
    ref = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)
    assert np.array_equal(simd.outputs, ref), f"{name} on {board}: the compiled SIMD path differs from TFLM"
    # The SIMD kernels must be the ones running: the scalar build of the same model is far slower.
    scalar = bench_model(model, board, "compiled-portable" if board == "qemu_m4" else "compiled-dsp",
                         inputs=inputs[:1], workdir=tmp_path / "scalar")
    assert simd.instructions_per_inference < 0.8 * scalar.instructions_per_inference


@pytest.mark.parametrize("kind,seed", CASES + DEPTHWISE_3X3_CASES)
def test_op_sweep_on_cortex_m55(zoo, kind, seed, tmp_path):
    """The per-op sweep through the Helium dot engine: row lengths below, at and above 16 with every tail,
    odd filter counts, one, two and three rows a call, every output stage form."""
    import op_cases
    from compiler_helpers import op_inputs

    name, build, params = getattr(op_cases, kind)(zoo, seed)
    model = cached_model(name, build, **params)
    _helium_equals_tflm(model, op_inputs(model, n=5), tmp_path, f"{name} {params}")


def test_depthwise_3x3_at_O0_on_cortex_m55(zoo, tmp_path):
    """The 3x3 depthwise cases through Helium's interleaved-row windows (depthwise_mve.c) at -O0, where GCC
    keeps every intrinsic's operands in memory (the -O2 run is the per-op sweep above)."""
    import op_cases
    from compiler_helpers import op_inputs

    for kind, seed in DEPTHWISE_3X3_CASES:
        name, build, params = getattr(op_cases, kind)(zoo, seed)
        model = cached_model(name, build, **params)
        _helium_equals_tflm(model, op_inputs(model, n=3), tmp_path / name, f"{name} {params}", "-O0")


@pytest.mark.parametrize("opt", ["-O2", "-Os"])
def test_output_stage_forms_and_edges_on_cortex_m55(zoo, opt, tmp_path):
    """Each output stage form and the kernel edge-case model on the Helium path, at -O2 and at -Os
    (PlatformIO's release builds), where GCC allocates the MVE registers differently."""
    import op_cases
    from compiler_helpers import op_inputs

    for index, (label, build) in enumerate(op_cases.output_stage_forms()):
        model = build()
        _helium_equals_tflm(model, op_inputs(model, n=6), tmp_path / str(index), label, opt)
    edges = _edge_case_model(zoo)
    _helium_equals_tflm(edges, make_inputs(edges, n_random=6, n_images=2), tmp_path / "edges", "edge cases", opt)


def _helium_first_layer_cases():
    """3x3 CONV_2D on one and three channels (the windows Helium forms in registers, conv_window_mve.c) in
    the forms the output-stage list lacks: the general form, both clamps (RELU6), one filter only, odd filter
    counts, stride 1 with SAME borders on every side, a wide RGB row (a window row 3 * 40 bytes apart);
    short pointwise rows (13 and 16 values) through the written-out pair loop, lower clamp and none; and the
    pointwise four-filter passes (rows of 16n values) in each folded form."""
    import flatbuffer_models as fm

    general_q, relu_q = (0.00001, 3), (0.01, -20)
    return [
        ("3x3 one channel general", lambda: fm.conv2d((8, 7, 1), 5, 3, seed=21, out_q=general_q)),
        ("3x3 three channels general", lambda: fm.conv2d((7, 9, 3), 7, 3, stride=2, seed=22, out_q=general_q)),
        ("3x3 three channels relu6", lambda: fm.conv2d((6, 40, 3), 9, 3, stride=2, activation=3, seed=23,
                                                        out_q=relu_q)),
        ("3x3 one channel one filter", lambda: fm.conv2d((5, 6, 1), 1, 3, activation=1, seed=24, out_q=relu_q)),
        ("3x3 three channels one filter", lambda: fm.conv2d((5, 6, 3), 1, 3, seed=25)),
        ("3x3 one channel valid relu6", lambda: fm.conv2d((10, 11, 1), 3, 3, padding=1, activation=3, seed=26,
                                                           out_q=relu_q)),
        # the written-out short-row pair loop (k <= 16, three rows) with an odd filter after its pairs
        ("3x3 one channel relu odd filters", lambda: fm.conv2d((9, 8, 1), 7, 3, stride=2, activation=1, seed=27,
                                                                out_q=relu_q)),
        ("pointwise 13 channels relu odd filters", lambda: fm.conv2d((5, 6, 13), 7, 1, activation=1, seed=28,
                                                                      out_q=relu_q)),
        ("pointwise 16 channels", lambda: fm.conv2d((4, 6, 16), 9, 1, seed=29, out_q=(0.05, -128))),
        # pointwise runs (one output row a call here) of 12 rows or more, rows of 16n values, filters in fours:
        # four filters x two rows a pass
        # with the vector output stage (dot_rows.c mve_quads) in each folded form, an odd last row on its own,
        # per-tensor weights; and beside them the shapes it leaves to the pair loop (16n + 8 values, a filter
        # count not a multiple of 4, 9 rows)
        ("pointwise 32 channels relu quads", lambda: fm.conv2d((3, 12, 32), 8, 1, activation=1, seed=30,
                                                                out_q=relu_q)),
        ("pointwise 48 channels quads odd rows", lambda: fm.conv2d((3, 15, 48), 12, 1, seed=31, out_q=(0.05, 4))),
        ("pointwise 64 channels relu_n1_to_1 quads", lambda: fm.conv2d((2, 18, 64), 16, 1, activation=2, seed=32,
                                                                        out_q=relu_q)),
        ("pointwise 32 channels quads per-tensor", lambda: fm.conv2d((2, 12, 32), 4, 1, activation=1, seed=33,
                                                                      out_q=relu_q, per_tensor=True)),
        ("pointwise 40 channels", lambda: fm.conv2d((2, 12, 40), 8, 1, seed=34, out_q=(0.05, -128))),
        ("pointwise 32 channels 6 filters", lambda: fm.conv2d((2, 12, 32), 6, 1, activation=1, seed=35,
                                                               out_q=relu_q)),
        ("pointwise 32 channels 9 rows", lambda: fm.conv2d((3, 9, 32), 8, 1, seed=36)),
        # rows of 8 and 16 values, filters in fours: four filters x two rows a pass, eight VMLADAV and two
        # vector output stages (dot_rows.c mve_short_quads) in each folded form, odd and even row counts,
        # per-tensor weights; beside them a filter count it leaves to the pair loop
        ("pointwise 8 channels short quads", lambda: fm.conv2d((3, 9, 8), 16, 1, seed=37, out_q=(0.05, -128))),
        ("pointwise 8 channels relu short quads", lambda: fm.conv2d((4, 14, 8), 8, 1, activation=1, seed=38,
                                                                     out_q=relu_q)),
        ("pointwise 8 channels relu6 upper clamp short quads", lambda: fm.conv2d((3, 10, 8), 12, 1, activation=3,
                                                                                  seed=39, out_q=(0.03, -128))),
        ("pointwise 16 channels relu_n1_to_1 short quads", lambda: fm.conv2d((3, 11, 16), 8, 1, activation=2,
                                                                              seed=40, out_q=relu_q)),
        ("pointwise 16 channels relu short quads per-tensor", lambda: fm.conv2d((2, 15, 16), 4, 1, activation=1,
                                                                                 seed=41, out_q=relu_q,
                                                                                 per_tensor=True)),
        ("pointwise 16 channels short quads", lambda: fm.conv2d((5, 7, 16), 20, 1, seed=42, out_q=(0.05, 4))),
        ("pointwise 8 channels 10 filters", lambda: fm.conv2d((3, 9, 8), 10, 1, seed=43)),
        # 3x3 on three channels, filters in fours up to 16: per pixel its quads' VMLADAV and vector output
        # stages (conv_window_mve.c window_quads_c3) in each folded form, SAME borders on every side, VALID,
        # stride 1 and 2, per-tensor weights; 20 filters go to the pair loop
        ("3x3 three channels relu quads", lambda: fm.conv2d((7, 9, 3), 8, 3, activation=1, seed=44,
                                                             out_q=relu_q)),
        ("3x3 three channels relu_n1_to_1 quads per-tensor", lambda: fm.conv2d((9, 8, 3), 12, 3, stride=2,
                                                                                activation=2, seed=45,
                                                                                out_q=relu_q, per_tensor=True)),
        ("3x3 three channels 16 filters valid", lambda: fm.conv2d((8, 10, 3), 16, 3, padding=1, seed=46)),
        ("3x3 three channels 20 filters", lambda: fm.conv2d((6, 7, 3), 20, 3, stride=2, seed=47)),
    ]


def test_helium_first_layer_whole_layers_on_cortex_m55(tmp_path):
    """The same window and pointwise cases as whole layers (`--memory fast`): the default schedule runs these
    small models in row bands, so only here does one call cross the end of an output row (pixel pairs and
    row runs that wrap)."""
    from compiler_helpers import op_inputs

    for index, (label, build) in enumerate(_helium_first_layer_cases()):
        model = build()
        _helium_equals_tflm(model, op_inputs(model, n=4), tmp_path / f"w{index}", label, memory="fast")


@pytest.mark.parametrize("opt", ["-O2", "-O0"])
def test_helium_first_layer_and_converter_models_on_cortex_m55(opt, tmp_path):
    """The Helium 3x3 window path in every output stage form (above), and the TF converter's own conv model
    with per-channel and with per-tensor weights (an RGB 3x3 stride-2 first layer, odd filter counts), at -O2
    and at -O0 (the C versions of the hand-scheduled blocks)."""
    import hashlib
    from pathlib import Path

    import quant_zoo
    from compiler_helpers import op_inputs

    for index, (label, build) in enumerate(_helium_first_layer_cases()):
        model = build()
        _helium_equals_tflm(model, op_inputs(model, n=6), tmp_path / f"w{index}", label, opt)
    source = hashlib.sha256((Path(__file__).parent / "quant_zoo.py").read_bytes()).hexdigest()[:16]
    for weights in ("per-channel", "per-tensor"):
        model = cached_model(f"quant-zoo-conv-{weights}", lambda: quant_zoo.build("conv", weights == "per-tensor"),
                             model="conv", weights=weights, zoo_source=source)
        _helium_equals_tflm(model, op_inputs(model, n=6), tmp_path / weights, f"converter conv {weights}", opt)
