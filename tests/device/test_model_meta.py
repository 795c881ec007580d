"""The firmware's uint8 -> int8 input table is the host's: compile the generated model_meta.c with gcc and
compare its table with what `interpreters.quantize_pixels` computes on the host."""
import subprocess

import numpy as np
import pytest

from mobilenet_tiny.device.model_meta import write_model_meta
from mobilenet_tiny.interpreters import TensorInfo, quantize_pixels
from mobilenet_tiny.model_facts import ModelFacts, Tensor

DUMP = r"""
#include <stdio.h>
#include "model_meta.h"
int main(void) {
  for (int i = 0; i < 256; i++) printf("%d\n", meta_input_lut[i]);
  printf("%s|%d|%d|%.9g|%s\n", META_MODEL_SHA256, META_INPUT_BYTES, META_INPUT_ZERO_POINT, (double)META_INPUT_SCALE,
         meta_labels[META_NUM_LABELS - 1]);
  return 0;
}
"""


@pytest.mark.parametrize("scale,zero_point", [(1 / 255, -128), (0.0078125, 0), (0.0123, -5), (0.002, -128)])
def test_device_table_equals_host_quantization(tmp_path, scale, zero_point):
    scale = float(np.float32(scale))  # a .tflite stores float32 scales
    x = Tensor(0, "input", (1, 8, 6, 3), "int8", np.array([scale], np.float32), np.array([zero_point]), 0, None)
    y = Tensor(1, "output", (1, 3), "int8", np.array([1 / 256], np.float32), np.array([-128]), 0, None)
    facts = ModelFacts(b"", "test", "f" * 64, (x, y), (), (0,), (1,))
    write_model_meta(tmp_path, facts, ["a", "b", 'quote"me'])
    (tmp_path / "dump.c").write_text(DUMP)
    exe = tmp_path / "dump"
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Werror", "-o", str(exe), str(tmp_path / "dump.c"),
                    str(tmp_path / "model_meta.c")], check=True, timeout=60)
    lines = subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=30).stdout.splitlines()
    device = np.array([int(v) for v in lines[:256]], dtype=np.int8)
    host = quantize_pixels(np.arange(256, dtype=np.uint8), TensorInfo((1, 8, 6, 3), np.int8, scale, zero_point))
    np.testing.assert_array_equal(device, host)
    sha, nbytes, zp, c_scale, last_label = lines[256].split("|")
    assert (sha, int(nbytes), int(zp), last_label) == ("f" * 64, 8 * 6 * 3, zero_point, 'quote"me')
    assert float(c_scale) == pytest.approx(scale, rel=1e-7)
