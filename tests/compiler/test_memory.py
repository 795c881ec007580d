"""Memory below layer-by-layer (compiler/memory.py, stage.py): every schedule — in place, the patch-based
stage at several splits and band heights, the smallest arena — gives TFLM's bytes on whole models (V1, V2
with residual ADDs inside the stage, the VWW-shaped model, keras.applications MobileNets) and on the per-op
sweep's conv, depthwise and add models, in poison-freed builds; the stage computes every row once; the
planner's report; the kernels' in-place answers."""
import json

import numpy as np
import pytest

import op_cases
from compiler_helpers import assert_live_buffers_apart, cached_model, make_inputs, op_inputs, poisoned_build_differs

pytestmark = pytest.mark.slow

WHOLE = {
    "v1": lambda zoo: cached_model("v1-gray", lambda: zoo.mobilenet("v1", (96, 96, 1)), arch="v1", shape="96x96x1"),
    "v2": lambda zoo: cached_model("v2-gray", lambda: zoo.mobilenet("v2", (96, 96, 1)), arch="v2", shape="96x96x1"),
    "vww": lambda zoo: cached_model("vww", lambda: zoo.vww_topology(), kind="vww"),
    "keras_mobilenet_v2_a035": lambda zoo: cached_model(
        "kapp-v2", lambda: zoo.keras_application("mobilenet_v2", alpha=0.35), kind="mobilenet_v2", alpha=0.35),
}


def _planned(model_bytes, memory="balanced"):
    from mobilenet_tiny.compiler import plan_model

    return plan_model(model_bytes, memory)


def _other_stage(model_bytes) -> str:
    """A patched schedule other than balanced's: its split one step later (or earlier), bands of 2 rows."""
    from mobilenet_tiny.compiler.planner import content_roots
    from mobilenet_tiny.compiler.stage import simulate

    graph, steps, memory = _planned(model_bytes)
    last = memory.chosen.last_step or 0
    for candidate in (last + 1, last - 1, last):
        if 0 <= candidate < len(steps) and simulate(steps, graph, candidate, 2, content_roots(steps)) is not None:
            return f"stage:{candidate}:2"
    raise AssertionError("no second stage")


def _graph(model_bytes):
    from mobilenet_tiny.compiler.reader import read_model

    return read_model(model_bytes)


def _assert_schedules_match(model, inputs, modes, label):
    """Each memory mode's poison-freed host build gives TFLM's bytes on every input (TFLM run once)."""
    from mobilenet_tiny.compiler.host import CompiledHostInterpreter
    from mobilenet_tiny.interpreters import TflmInterpreter

    ref = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)
    for memory in modes:
        compiled = CompiledHostInterpreter(model, extra_flags=["-DMTK_POISON_FREED"], memory=memory)
        try:
            ours = compiled.run_many(inputs)
        finally:
            compiled.close()
        bad = np.flatnonzero(np.any(ours != ref, axis=1))
        assert bad.size == 0, f"{label} {memory}: {bad.size}/{len(inputs)} inputs differ from TFLM"


@pytest.mark.parametrize("which", sorted(WHOLE))
def test_every_schedule_matches_tflm_poisoned(zoo, which):
    """fast (in place), min, and a second patched schedule, each built with -DMTK_POISON_FREED, on 120
    inputs (balanced, the default, runs in test_end_to_end on 240)."""
    model = WHOLE[which](zoo)
    inputs = make_inputs(model, n_random=80, n_images=34)
    assert len(inputs) >= 100
    _assert_schedules_match(model, inputs, ("fast", "min", _other_stage(model)), which)


def _sweep_models(zoo):
    for kind, n in (("conv2d", 12), ("depthwise_conv2d", 10)):
        for seed in range(n):
            name, build, params = getattr(op_cases, kind)(zoo, seed)
            yield name, cached_model(name, build, **params)
    for seed in range(5):
        name, build, params = op_cases.add(zoo, seed)
        yield name, cached_model(name, build, **params)


@pytest.mark.parametrize("kind", ["conv", "dw", "add"])
def test_op_sweep_every_stage_matches_tflm(zoo, kind):
    """Every stage the op sweep's models can run (each split, bands of 1 and 2 rows) and in place, poisoned."""
    from mobilenet_tiny.compiler.planner import content_roots
    from mobilenet_tiny.compiler.stage import simulate

    checked = 0
    for name, model in _sweep_models(zoo):
        if not name.startswith(kind + "-"):
            continue
        graph, steps, _ = _planned(model)
        inputs = op_inputs(model, n=12)
        modes = ["fast"] + [f"stage:{last}:{rows}" for last in range(len(steps)) for rows in (1, 2)
                            if simulate(steps, graph, last, rows, content_roots(steps)) is not None]
        _assert_schedules_match(model, inputs, modes, name)
        checked += len(modes) - 1
    assert checked >= 10, f"only {checked} {kind} stages: the sweep no longer exercises bands"


def ring_stage_modes(model) -> list[str]:
    """Every stage of a ring_stage model in bands of 1, 2 and 4 rows (its depthwise convs' windows as rings,
    some moved: a producer's band that would wrap the ring)."""
    from mobilenet_tiny.compiler.planner import content_roots
    from mobilenet_tiny.compiler.stage import simulate

    graph, steps, _ = _planned(model)
    return [f"stage:{last}:{rows}" for last in range(1, len(steps)) for rows in (1, 2, 4)
            if simulate(steps, graph, last, rows, content_roots(steps)) is not None]


@pytest.mark.parametrize("seed", range(len(op_cases.RING_STAGES)))
def test_ring_stages_match_tflm(zoo, seed):
    """Depthwise convs reading their input window as a ring (each kernel path: planar rows, six-output chunks,
    three-pixel lanes, scalar channels, 5x5, depth multiplier 2), poisoned, in bands of 1, 2 and 4 rows."""
    from mobilenet_tiny.compiler.planner import content_roots
    from mobilenet_tiny.compiler.stage import simulate

    name, build, params = op_cases.ring_stage(zoo, seed)
    model = cached_model(name, build, **params)
    modes = ring_stage_modes(model)
    graph, steps, _ = _planned(model)
    rings = [t for m in modes for t, b in simulate(steps, graph, int(m.split(":")[1]), int(m.split(":")[2]),
                                                  content_roots(steps)).buffers.items() if b.ring]
    assert len(modes) >= 3 and rings, (modes, rings)
    _assert_schedules_match(model, op_inputs(model, n=8), modes, name)


@pytest.mark.parametrize("which", ["v1", "v2"])
def test_stage_makes_every_row_once(zoo, which):
    """The stage keeps halo rows instead of recomputing them: every step's calls cover its output rows
    exactly once, in order; its buffers hold what the calls read; live buffers never share bytes."""
    _, steps, memory = _planned(WHOLE[which](zoo))
    stage, plan = memory.plan.stage, memory.plan
    assert stage is not None
    for i in stage.steps:
        calls = [c for c in stage.calls if c.step == i]
        rows = [r for c in calls for r in range(c.out_row, c.out_row + c.out_rows)]
        assert rows == list(range(_graph(WHOLE[which](zoo)).tensors[steps[i].output].shape[1])), steps[i].layer
    block = [b for b in stage.buffers.values() if b.kind in ("window", "transient")]
    for a in block:
        for b in block:
            if a is not b and a.first <= b.last and b.first <= a.last:
                assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (a, b)
    assert_live_buffers_apart(plan)


def test_poisoning_catches_a_bad_stage(zoo, tmp_path):
    """The poison build judges the stage's buffers too: a transient buffer moved onto a window that is still
    live must change the outputs."""
    from mobilenet_tiny.compiler import lowering, reader
    from mobilenet_tiny.compiler.memory import plan_memory

    model = WHOLE["v1"](zoo)
    graph = reader.read_model(model)
    steps = lowering.lower_graph(graph)
    plan = plan_memory(steps, graph, "balanced").plan
    buffers = plan.stage.buffers.values()
    window = next(b for b in buffers if b.kind == "window")
    transient = next(b for b in buffers if b.kind == "transient" and b.size <= window.size)
    transient.offset = window.offset
    assert poisoned_build_differs(tmp_path, model, graph, steps, plan, make_inputs(model, n_random=4, n_images=4))


def test_memory_modes_and_goals(zoo):
    """Arena of each mode on V1 and V2: fast is layer-by-layer's instructions, balanced stays in its budget
    (estimated), min is never larger than balanced; the arenas are below the issue's goals with room for
    the firmware's fixed RAM (the measured figures: test_memory_qemu.py)."""
    from mobilenet_tiny.compiler.memory import BALANCED_BUDGET

    arenas = {}
    for which, goal in (("v1", 36_000), ("v2", 70_000)):
        modes = {m: _planned(WHOLE[which](zoo), m)[2] for m in ("fast", "balanced", "min")}
        assert modes["fast"].chosen.extra_instructions == 0
        assert modes["fast"].plan.schedule == "in-place"
        assert modes["balanced"].ratio(modes["balanced"].chosen) <= BALANCED_BUDGET
        assert modes["min"].chosen.arena_bytes <= modes["balanced"].chosen.arena_bytes
        assert modes["balanced"].chosen.arena_bytes < modes["fast"].chosen.arena_bytes / 2
        assert modes["balanced"].plan.schedule == "patched"
        assert modes["balanced"].chosen.arena_bytes + 1_000 <= goal
        arenas[which] = modes["balanced"].chosen.arena_bytes
    # V2's stage holds residual ADDs: block_2's ADD runs on bands.
    _, steps, memory = _planned(WHOLE["v2"](zoo))
    assert "ADD" in [steps[i].op.name for i in memory.plan.stage.steps]


def test_in_place_answers_are_the_kernels(tmp_path):
    """Whether a depthwise conv may overwrite its input comes from mtk_depthwise_conv2d_in_place_ok: yes for
    groups of 4 channels (a strided window too), no with a tail channel (the reference loop reads late)."""
    import flatbuffer_models as fm
    from mobilenet_tiny.compiler import lowering, reader

    def in_place(model):
        return [s.in_place_ok for s in lowering.lower_graph(reader.read_model(model))]

    assert in_place(fm.depthwise_conv2d((9, 7, 12), 3, seed=1)) == [True]
    assert in_place(fm.depthwise_conv2d((9, 7, 13), 3, seed=2)) == [False]
    assert in_place(fm.depthwise_conv2d((11, 9, 8), 5, stride=2, padding=1, seed=3)) == [True]


def test_compile_json_reports_schedules_and_live_bytes(zoo, tmp_path):
    from click.testing import CliRunner

    from mobilenet_tiny.cli import main

    (tmp_path / "m.tflite").write_bytes(WHOLE["v2"](zoo))
    result = CliRunner().invoke(main, ["compile", str(tmp_path / "m.tflite"), "-o", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    memory = json.loads(result.output)["memory"]
    assert set(memory["schedules"]) == {"layer-by-layer", "in-place", "patched"}
    for s in memory["schedules"].values():
        assert s["arena_bytes"] >= s["lower_bound_bytes"] > 0
    assert memory["chosen"]["schedule"] == "patched" and memory["mode"] == "balanced"
    live = memory["live_bytes"]
    assert len(live) == 65 and max(r["bytes"] for r in live) == memory["chosen"]["lower_bound_bytes"]
    assert max(r["layer_by_layer_bytes"] for r in live) == memory["schedules"]["layer-by-layer"]["lower_bound_bytes"]
    png = tmp_path / "out" / "model_memory.png"
    assert memory["chart"] == str(png) and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = CliRunner().invoke(main, ["compile", str(tmp_path / "m.tflite"), "-o", str(tmp_path / "o2"),
                                     "--memory", "fast"])
    assert text.exit_code == 0 and "memory fast: in-place" in text.output
