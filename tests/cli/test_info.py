"""`mobilenet-tiny info` through the installed console script, as a user runs it."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [str(Path(sys.executable).with_name("mobilenet-tiny"))]


def run(*args):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=120)


def test_info_json_is_sane():
    r = run("info", "--arch", "v1", "--alpha", "0.25", "--input", "96x96x1", "--classes", "2", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["totals"]["params"] == 218_914
    assert doc["totals"]["macs"] == sum(layer["macs"] for layer in doc["layers"])
    assert 7.0e6 < doc["totals"]["macs"] < 7.3e6
    assert len(doc["separable"]) == 13
    for pair in doc["separable"]:
        assert pair["ratio"] == pytest.approx(1 / pair["cout"] + 1 / 9, rel=1e-12)
    # conv_pw_1 at 48x48: 8 channels in, 16 out -> (8 + 16) * 48 * 48 = 55,296 bytes live at once
    # (TFLM's planner needs exactly this much for the activations of this model).
    assert doc["peak_activation_memory_int8"] == {**doc["peak_activation_memory_int8"], "bytes": 55_296,
                                                  "layer": "conv_pw_1"}
    assert r.stderr == ""


def test_info_table_for_v2_rgb():
    r = run("info", "--arch", "v2", "--input", "96x96x3")
    assert r.returncode == 0, r.stderr
    assert "block_16_project" in r.stdout and "1/Cout + 1/K²" in r.stdout


@pytest.mark.parametrize("args, fragment", [
    (["--alpha", "-1"], "alpha"),
    (["--input", "96x96x2"], "channels"),
    (["--arch", "v9"], "v9"),
    (["--input", "big"], "HxWxC"),
    (["--classes", "1"], "2 classes"),
])
def test_bad_arguments_one_line_no_traceback(args, fragment):
    r = run("info", *args)
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error:") and fragment in lines[0]
    assert "Traceback" not in r.stderr + r.stdout
