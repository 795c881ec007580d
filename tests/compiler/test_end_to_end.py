"""Whole models compiled to C, built with gcc -O2 -Wall -Wextra -Werror, compared byte for byte with TFLM
on ≥ 240 inputs each (random, structured, and built-in `shapes` images), plus every layer's output on a
few images (TFLM with all tensors preserved)."""
import numpy as np
import pytest

from compiler_helpers import assert_matches_tflm, make_inputs, zoo_model

pytestmark = pytest.mark.slow


MODELS = ("keras_mobilenet_a025", "keras_mobilenet_v2_a035", "v1_gray", "v1_rgb", "v2_gray", "vww_topology")


@pytest.fixture(scope="module", params=sorted(MODELS))
def model(request):
    return request.param, zoo_model(request.param)


def test_outputs_match_tflm_byte_for_byte(model):
    name, model_bytes = model
    inputs = make_inputs(model_bytes)
    assert len(inputs) >= 200
    outputs = assert_matches_tflm(model_bytes, inputs, label=name)
    # The comparison means something only if the model's output depends on its input.
    assert len({o.tobytes() for o in outputs}) > 3, f"{name}: outputs barely vary, the model collapsed"


def test_every_layer_matches_tflm(model):
    from tflite_micro import runtime

    from mobilenet_tiny.compiler.host import CompiledHostInterpreter
    from mobilenet_tiny.compiler.reader import read_model

    name, model_bytes = model
    graph = read_model(model_bytes)
    compiled = CompiledHostInterpreter(model_bytes, extra_flags=["-DMTK_TRACE"])
    tflm = runtime.Interpreter.from_bytes(model_bytes, arena_size=8 << 20,
                                          intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    try:
        for x in make_inputs(model_bytes, n_random=2, n_images=2)[[0, 1, -2, -1]]:
            steps, final = compiled.trace(x)
            tflm.set_input(x[None], 0)
            tflm.invoke()
            for i, op in enumerate(graph.operators):
                if op.name == "RESHAPE":
                    continue
                ref = tflm.GetTensor(op.outputs[0], 0)["tensor_data"].reshape(-1)
                assert np.array_equal(steps[i], ref), f"{name}: layer {i} {op.name} differs from TFLM"
            assert np.array_equal(final, tflm.get_output(0).reshape(-1))
    finally:
        compiled.close()


def test_compile_result_facts(model, tmp_path):
    from mobilenet_tiny.compiler import compile_model

    name, model_bytes = model
    result = compile_model(model_bytes, tmp_path, "net")
    header = (tmp_path / "net.h").read_text()
    for macro in ("NET_INPUT_HEIGHT", "NET_INPUT_WIDTH", "NET_INPUT_CHANNELS", "NET_INPUT_BYTES", "NET_INPUT_SCALE",
                  "NET_INPUT_ZERO_POINT", "NET_OUTPUT_BYTES", "NET_OUTPUT_SCALE", "NET_OUTPUT_ZERO_POINT",
                  "NET_NUM_CLASSES", "NET_ARENA_BYTES", "NET_MACS"):
        assert f"#define {macro} " in header
    assert "int net_invoke(const int8_t *input, int8_t *output);" in header
    assert f"#define NET_ARENA_BYTES {result.arena_bytes}\n" in header
    assert result.arena_bytes >= result.lower_bound_bytes > 0
    assert result.weight_bytes > 0 and result.macs > 1_000_000
