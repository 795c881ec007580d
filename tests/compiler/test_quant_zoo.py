"""Every supported operator, with per-channel and with per-tensor weights, compiled and compared byte for
byte with the host TFLM interpreter on 2,000 random inputs and the extremes (quant_zoo.py)."""
import hashlib

import numpy as np
import pytest

import quant_zoo
from compiler_helpers import HERE, assert_matches_tflm, cached_model

pytestmark = pytest.mark.slow
INPUTS = 2000


def _weight_scale_counts(model_bytes: bytes) -> dict[str, set[int]]:
    """Operator -> the numbers of filter scales its weight tensors carry."""
    from mobilenet_tiny.compiler.reader import read_model

    graph = read_model(model_bytes)
    counts: dict[str, set[int]] = {}
    for op in graph.operators:
        if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            counts.setdefault(op.name, set()).add(graph.tensors[op.inputs[1]].scales.size)
    return counts


@pytest.mark.parametrize("weights", ["per-channel", "per-tensor"])
@pytest.mark.parametrize("name", sorted(quant_zoo.ZOO))
def test_zoo_model_matches_tflm(name, weights):
    per_tensor = weights == "per-tensor"
    source = hashlib.sha256((HERE / "quant_zoo.py").read_bytes()).hexdigest()[:16]
    model = cached_model(f"quant-zoo-{name}-{weights}", lambda: quant_zoo.build(name, per_tensor),
                         model=name, weights=weights, zoo_source=source)
    counts = _weight_scale_counts(model)
    assert counts, f"{name}: no weighted operator"
    for op, sizes in counts.items():
        assert (sizes == {1}) == per_tensor, f"{name} {weights}: {op} has {sorted(sizes)} filter scales"

    from mobilenet_tiny.interpreters import TflmInterpreter

    info = TflmInterpreter(model).input_details
    rng = np.random.default_rng(len(name))
    inputs = np.concatenate([rng.integers(-128, 128, size=(INPUTS, *info.shape[1:])),
                             [np.full(info.shape[1:], v) for v in (-128, 127, info.zero_point)]]).astype(np.int8)
    outputs = assert_matches_tflm(model, inputs, label=f"{name} {weights}")
    assert len({o.tobytes() for o in outputs}) > INPUTS // 2, f"{name}: outputs barely depend on the input"
