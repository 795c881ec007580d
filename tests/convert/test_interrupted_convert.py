"""Ctrl-C at any point of a real `convert` leaves the output folder exactly as it was (every file's hash),
prints one line and exits 130; an uninterrupted run replaces the whole set. Also SIGTERM, and `compile`."""
import signal

import pytest

from interrupt_harness import (after_seconds, assert_interrupted, run_interrupted, staging, tree_hashes,
                               when_exists)
from mobilenet_tiny.fileio import STAGING_TAG
from test_bad_inputs import run, tiny_h5  # noqa: F401  (module fixture: a small float MobileNet .h5)

OLD_DATA, NEW_DATA = "builtin:shapes?n=40", "builtin:shapes?n=60"


@pytest.fixture(scope="module")
def old_set(tmp_path_factory, tiny_h5):
    """A folder holding a complete convert output set (with the compiled C too) and the new model."""
    d = tmp_path_factory.mktemp("convert-sets")
    (d / "m.h5").write_bytes(tiny_h5)
    r = run("convert", d / "m.h5", "--data", OLD_DATA, "--out", d / "out", "--compile")
    assert r.returncode == 0, r.stderr
    assert_one_set(d / "out")
    (d / "out" / "notes.txt").write_text("the user's own file")
    return d, tree_hashes(d / "out")


def _new_convert(d):
    return ["convert", d / "m.h5", "--data", NEW_DATA, "--out", d / "out", "--compile"]


@pytest.mark.parametrize("moment", ["loading", "report"])
def test_sigint_leaves_the_old_set_whole(old_set, moment):
    d, before = old_set
    out = d / "out"
    when = {
        "loading": when_exists(out, staging()),  # the output set is open: the Keras model is being read
        "report": when_exists(out, staging("model_data.cc")),  # C array written, report being computed
    }[moment]
    r = run_interrupted(_new_convert(d), when)
    assert r.fired, r.stderr
    assert_interrupted(r)
    assert tree_hashes(out) == before
    assert not any(p.name.startswith(STAGING_TAG) for p in out.iterdir())


def test_sigterm_during_conversion_leaves_the_old_set_whole(old_set):
    """SIGTERM while the TFLite converter calibrates (which drops the KeyboardInterrupt raised in its
    Python callback and converts to the end): still nothing written."""
    d, before = old_set
    r = run_interrupted(_new_convert(d), lambda _o, err: "converting the float" in err, sig=signal.SIGTERM)
    assert r.fired
    assert_interrupted(r, "terminated; nothing was written", 143)
    assert tree_hashes(d / "out") == before


def test_sigint_during_compile_keeps_header_and_source_together(tmp_path, old_set):
    """`compile` writes model.h and model.c as one set too (SIGINT at several moments): afterwards the
    folder is exactly the old set or exactly the new one."""
    d, _ = old_set
    old_model, other = d / "out" / "model.tflite", tmp_path / "other" / "model.tflite"
    other.parent.mkdir()
    other.write_bytes(old_model.read_bytes())
    (other.parent / "labels.json").write_text('["w", "x", "y", "z"]')  # other labels: another model.c
    for model, folder in ((old_model, "c"), (other, "ref")):
        r = run("compile", model, "-o", tmp_path / folder)
        assert r.returncode == 0, r.stderr
    before, new = tree_hashes(tmp_path / "c"), tree_hashes(tmp_path / "ref")
    assert before != new
    outcomes = []
    for seconds in (0.2, 0.5, 0.8, 1.2):
        r = run_interrupted(["compile", other, "-o", tmp_path / "c"], after_seconds(seconds))
        now = tree_hashes(tmp_path / "c")
        # Finished first: the signal came after the set was replaced (the command says it was written in
        # full), or in the last instant of the exit, which ends the process by the signal.
        finished = r.returncode != 130 or "while exiting" in r.stderr or "written in full first" in r.last_line
        if not finished:
            assert_interrupted(r)
            assert now == before
        else:
            assert r.returncode in (0, 130, -signal.SIGINT) and now == new, r.stderr
            assert run("compile", old_model, "-o", tmp_path / "c").returncode == 0
        outcomes.append(finished)
    assert not all(outcomes)  # at least one signal came while compiling


def test_uninterrupted_convert_replaces_the_whole_set(old_set):
    d, before = old_set
    r = run(*_new_convert(d))
    assert r.returncode == 0, r.stderr
    after = tree_hashes(d / "out")
    assert set(after) == set(before) and after["notes.txt"] == before["notes.txt"]
    changed = {name for name in after if after[name] != before[name]}
    # Other data: another calibration, another report (model.h may stay: same scales and arena).
    assert {"model.tflite", "model_data.cc", "model.c", "report.json", "report.md"} <= changed, changed
    assert_one_set(d / "out")


def assert_one_set(out):
    """The files describe one model: the C array and the report are of model.tflite."""
    import json

    from mobilenet_tiny.convert.c_array import parse_c_array

    model = (out / "model.tflite").read_bytes()
    assert parse_c_array((out / "model_data.cc").read_text()) == model
    assert json.loads((out / "report.json").read_text())["model_bytes"] == len(model)
