"""`bench --cycles`: the cycle estimate beside QEMU's instruction count for every runtime of one run, on
the same images: the compiled runtime and TFLM + CMSIS-NN on the emulated Cortex-M4, once through the
library (table and JSON of one result) and once through the CLI with another clock; the estimates agree
run to run and the stream they price is the window -icount counted."""
import json
import subprocess
import sys

import pytest

from tflm_helpers import require_tflm

pytestmark = pytest.mark.qemu

ESTIMATED = ("estimated_cycles_per_inference", "estimated_cycles_per_mac", "estimated_ms_per_inference",
             "stream_instructions_per_inference", "vector_instructions_per_inference")


def test_bench_cycles_beside_instructions_for_every_runtime(small_model_path, tmp_path):
    require_tflm("cmsis-nn")
    from mobilenet_tiny.device.bench import compare

    result = compare("qemu_m4", small_model_path, ["compiled", "tflm-cmsis-nn"], runs=2, cycles=True,
                     log=lambda *_: None)
    first = result.as_dict()
    lines = result.table_lines()
    assert "QEMU -icount instructions" in lines[0]
    assert lines[1].startswith("est.: estimated cycles at Cortex-M4 timings (TRM, zero wait states)")
    assert all(head in lines[2] for head in ("instructions", "est. cycles", "est. cyc/MAC", "est. ms", "x est. cyc"))
    assert first["cycle_model"] == "m4" and "estimated" in first["estimated_measure"]
    assert "instructions" in first["measure"] and "estimated" not in first["measure"]

    cli = subprocess.run([sys.executable, "-m", "mobilenet_tiny.cli", "bench", "--board", "qemu_m4", "--model",
                          str(small_model_path), "--runtime", "compiled,tflm-cmsis-nn", "--runs", "2", "--cycles",
                          "--clock-mhz", "100", "--json"], capture_output=True, text=True, timeout=900)
    assert cli.returncode == 0, cli.stderr
    second = json.loads(cli.stdout)
    assert second["cpu_hz"] == 100_000_000 and first["cpu_hz"] == 168_000_000
    for a, b in zip(first["rows"], second["rows"]):
        assert all(key in a for key in ESTIMATED), a
        # deterministic: the same inputs, the same images, the same executed stream
        assert a["estimated_cycles_per_inference"] == b["estimated_cycles_per_inference"]
        assert a["instructions_per_inference"] == b["instructions_per_inference"]
        # the plugin's window is the one the timer reads bracket (to a 40-instruction tick and the reads)
        assert abs(a["stream_instructions_per_inference"] - a["instructions_per_inference"]) <= 2 * 40
        assert a["estimated_cycles_per_inference"] >= a["instructions_per_inference"]
        assert a["vector_instructions_per_inference"] == 0  # no Helium on the M4
        assert a["estimated_cycles_per_mac"] == pytest.approx(a["estimated_cycles_per_inference"] / first["macs"])
        for numbers, hz in ((a, 168e6), (b, 100e6)):
            assert numbers["estimated_ms_per_inference"] == pytest.approx(
                numbers["estimated_cycles_per_inference"] / hz * 1e3)
            assert numbers["ms_per_inference"] == pytest.approx(numbers["instructions_per_inference"] / hz * 1e3)
    compiled, tflm = first["rows"]
    assert compiled["ratio_cycles"] == 1.0
    assert tflm["ratio_cycles"] == pytest.approx(
        tflm["estimated_cycles_per_inference"] / compiled["estimated_cycles_per_inference"], abs=1e-4)
