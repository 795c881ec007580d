"""The RISC-V kernel path (MTK_RISCV: register-blocked loops for RV32IM) built with riscv64-unknown-elf-gcc
and run on QEMU's RV32IMAC virt board (the benchmark harness, device/bench.py: the qemu_rv32 firmware's
runtime and board code with a driver that runs linked-in inputs) gives the host TFLM interpreter's bytes:
the per-op sweep, every output stage form, the quantization zoo (per-channel and per-tensor weights), the
whole-model zoo, and the edge cases of its own loops at -O2, -Os and -O0 (where it runs its C versions)."""
import hashlib
import shutil

import numpy as np
import pytest

import op_cases
from compiler_helpers import HERE, cached_model, make_inputs, op_inputs, zoo_model

pytestmark = [pytest.mark.qemu, pytest.mark.skipif(
    not (shutil.which("riscv64-unknown-elf-gcc") and shutil.which("qemu-system-riscv32")),
    reason="needs gcc-riscv64-unknown-elf, picolibc-riscv64-unknown-elf and qemu-system-misc")]


def _run(model_bytes, inputs, opt="-O2", portable=False):
    from mobilenet_tiny.device.bench import bench_model

    return bench_model(model_bytes, "qemu_rv32", "compiled-portable" if portable else "compiled",
                       inputs=inputs.reshape(len(inputs), -1), opt=opt, log=lambda *_: None)


def _check(model_bytes, inputs, label, **build):
    from mobilenet_tiny.interpreters import TflmInterpreter

    run = _run(model_bytes, inputs, **build)
    ref = TflmInterpreter(model_bytes).run_batch(inputs).reshape(len(inputs), -1)
    bad = np.flatnonzero(np.any(run.outputs != ref, axis=1))
    assert bad.size == 0, (f"{label}: {bad.size}/{len(inputs)} inputs differ from TFLM on RV32, first #{bad[0]}: "
                           f"rv32 {run.outputs[bad[0]].tolist()[:16]} tflm {ref[bad[0]].tolist()[:16]}")
    return run


CASES = [("conv2d", s) for s in range(12)] + [("depthwise_conv2d", s) for s in range(10)] + \
        [("fully_connected", s) for s in range(6)]


@pytest.mark.parametrize("kind,seed", CASES)
def test_op_sweep_on_rv32(zoo, kind, seed):
    import op_cases

    name, build, params = getattr(op_cases, kind)(zoo, seed)
    model = cached_model(name, build, **params)
    _check(model, op_inputs(model, n=5), f"{name} {params}")


@pytest.mark.parametrize("index", range(len(op_cases.output_stage_forms())))
def test_output_stage_forms_on_rv32(index):
    label, build = op_cases.output_stage_forms()[index]
    model = build()
    _check(model, op_inputs(model, n=6), label)


@pytest.mark.parametrize("weights", ["per-channel", "per-tensor"])
def test_quant_zoo_on_rv32(weights):
    import quant_zoo

    source = hashlib.sha256((HERE / "quant_zoo.py").read_bytes()).hexdigest()[:16]
    for name in sorted(quant_zoo.ZOO):
        model = cached_model(f"quant-zoo-{name}-{weights}", lambda: quant_zoo.build(name, weights == "per-tensor"),
                             model=name, weights=weights, zoo_source=source)
        _check(model, op_inputs(model, n=40), f"{name} {weights}")


def _rv32_edges(zoo):
    """The tails of the RISC-V loops in one model: a 3x3 depthwise at stride 1 and 2 over 6 channels (one
    group of 4 and two channels of the reference loop) with an odd output width (a pair and a last
    output), an im2col conv whose rows are not a multiple of 4, pointwise convs with 6 and 7 filters (a
    pass of 4 then a pair, then an odd last filter), ReLU6 (both clamps) and no activation (saturation)."""
    from mobilenet_tiny.tf_env import keras

    def layers(x):
        x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", bias_initializer="random_normal")(x)
        x = keras.layers.DepthwiseConv2D(3, padding="same", bias_initializer="random_normal")(x)
        x = keras.layers.ReLU(6.0)(x)
        x = keras.layers.DepthwiseConv2D(3, strides=2, padding="valid", bias_initializer="random_normal")(x)
        x = keras.layers.Conv2D(7, 1, bias_initializer="random_normal")(x)
        x = keras.layers.Conv2D(12, 1, activation="relu")(x)
        x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
        x = keras.layers.Flatten()(x)
        return keras.layers.Dense(5)(x)

    return cached_model("rv32-edges", lambda: zoo.single_layer(layers, (11, 9, 3), 4, (-1.0, 1.0)), kind="rv32-edges")


@pytest.mark.parametrize("opt", ["-O2", "-Os", "-O0"])
def test_rv32_loop_edge_cases(zoo, opt):
    model = _rv32_edges(zoo)
    _check(model, make_inputs(model, n_random=8, n_images=2), f"rv32 edges {opt}", opt=opt)


ZOO = ("keras_mobilenet_a025", "keras_mobilenet_v2_a035", "v1_gray", "v1_rgb", "v2_gray", "vww_topology")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ZOO))
def test_model_zoo_on_rv32(name):
    model = zoo_model(name)
    inputs = make_inputs(model, n_random=3, n_images=4)  # random, 6 structured extremes, shapes images
    run = _check(model, inputs, name)
    assert len({o.tobytes() for o in run.outputs}) > 3, f"{name}: outputs barely vary, the model collapsed"


@pytest.mark.slow
def test_vww_riscv_path_beats_portable():
    """The MLPerf VWW shape (V1 α0.25 96×96×3): the RISC-V path must actually be in use: at most 4.5
    instructions per MAC (the portable C path: 9.2), and the two builds give the same bytes."""
    model = zoo_model("vww_topology")
    inputs = make_inputs(model, n_random=1, n_images=1)[[0, -1]]
    fast = _check(model, inputs, "vww rv32 path")
    portable = _run(model, inputs, portable=True)
    assert np.array_equal(fast.outputs, portable.outputs)
    macs = 7_489_664
    assert max(fast.instructions) <= 4.5 * macs < min(portable.instructions), (fast.instructions,
                                                                                portable.instructions)
