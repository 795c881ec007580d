"""The arena planner: peak equals the lower bound on MobileNetV1, stays within 1.1x on MobileNetV2 (its
residuals keep two tensors alive), and no two live buffers share bytes — checked statically and by a
build that poisons every buffer the moment it is dead."""
import pytest

from compiler_helpers import (assert_live_buffers_apart, assert_matches_tflm, cached_model, make_inputs,
                              poisoned_build_differs)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def v1(zoo):
    return cached_model("v1-gray", lambda: zoo.mobilenet("v1", (96, 96, 1)), arch="v1", shape="96x96x1")


@pytest.fixture(scope="module")
def v2(zoo):
    return cached_model("v2-gray", lambda: zoo.mobilenet("v2", (96, 96, 1)), arch="v2", shape="96x96x1")


def _plan(model_bytes):
    from mobilenet_tiny.compiler.lowering import lower_graph
    from mobilenet_tiny.compiler.planner import plan_arena
    from mobilenet_tiny.compiler.reader import read_model

    graph = read_model(model_bytes)
    return plan_arena(lower_graph(graph), graph)


def test_v1_peak_equals_lower_bound(v1):
    plan = _plan(v1)
    # 48x48x8 in + 48x48x16 out at the first pointwise conv: the known 55,296 B of activations for
    # 96x96x1, plus that conv's 48 B of scratch (its 3 pixels x 8 channels sign-extended to 16 bits).
    assert plan.lower_bound_bytes == 55_296 + 48
    assert plan.arena_bytes == plan.lower_bound_bytes


def test_v2_peak_within_ten_percent_of_lower_bound(v2):
    plan = _plan(v2)
    assert plan.arena_bytes <= 1.1 * plan.lower_bound_bytes


@pytest.mark.parametrize("which", ["v1", "v2"])
def test_live_buffers_never_overlap(which, v1, v2):
    plan = _plan({"v1": v1, "v2": v2}[which])
    assert_live_buffers_apart(plan)


@pytest.mark.parametrize("which", ["v1", "v2"])
def test_poisoned_freed_buffers_do_not_change_outputs(which, v1, v2):
    model_bytes = {"v1": v1, "v2": v2}[which]
    inputs = make_inputs(model_bytes, n_random=16, n_images=8)
    assert_matches_tflm(model_bytes, inputs, extra_flags=["-DMTK_POISON_FREED"], label=f"{which} poisoned")


def test_poisoning_catches_a_bad_plan(v2, tmp_path):
    """The poison build is a real check: squeeze one residual tensor onto a buffer that is still live and
    the outputs must go wrong."""
    from mobilenet_tiny.compiler import lowering, planner, reader

    graph = reader.read_model(v2)
    steps = lowering.lower_graph(graph)
    plan = planner.plan_arena(steps, graph)
    # The longest-living buffer (a residual kept across a block) moved onto an overlapping live one.
    victim = max(plan.buffers.values(), key=lambda b: b.last - b.first)
    other = next(b for b in plan.buffers.values() if b is not victim and b.overlaps_in_time(victim)
                 and b.first > victim.first)
    victim.offset = other.offset
    assert poisoned_build_differs(tmp_path, v2, graph, steps, plan, make_inputs(v2, n_random=8, n_images=4))


def test_scratch_sizes_are_the_kernels_own(tmp_path, monkeypatch):
    """Scratch sizes are what the kernels' *_scratch_bytes() return, evaluated by a host build of the kernels
    once and then cached: a second compile needs no C compiler, a fresh cache without one is one line."""
    import flatbuffer_models
    from mobilenet_tiny.compiler import lowering, reader
    from mobilenet_tiny.errors import UserError

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    model = flatbuffer_models.conv2d((7, 9, 5), 6, 3, stride=2)  # im2col: 3 * k + the dot engine's 6 * k4
    steps = lowering.lower_graph(reader.read_model(model))
    k = 3 * 3 * 5
    assert [s.scratch_bytes for s in steps] == [3 * k + 6 * ((k + 3) // 4 * 4)]
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no gcc or cc either
    assert [s.scratch_bytes for s in lowering.lower_graph(reader.read_model(model))] == [steps[0].scratch_bytes]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "empty-cache"))
    with pytest.raises(UserError, match="host C compiler"):
        lowering.lower_graph(reader.read_model(model))
