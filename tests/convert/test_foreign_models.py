"""`convert` on models this project did not build: keras.applications MobileNet (.h5) and a SavedModel."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mobilenet_tiny.interpreters import LiteRtInterpreter, TflmInterpreter, quantize_pixels
from pipeline_fixtures import keras_application_h5, randomize_batchnorm

CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))
pytestmark = pytest.mark.slow


def test_keras_applications_mobilenet_converts_and_runs_in_tflm(tmp_path):
    (tmp_path / "mobilenet.h5").write_bytes(keras_application_h5("mobilenet", (96, 96, 3), 0.25, 4))
    r = subprocess.run([CLI, "convert", str(tmp_path / "mobilenet.h5"), "--data", "builtin:shapes?n=200",
                        "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["input"]["shape"] == [1, 96, 96, 3] and report["input"]["dtype"] == "int8"
    # Its classifier is a 1×1 conv + Reshape, which exports a SHAPE → STRIDED_SLICE → PACK → RESHAPE chain.
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "RESHAPE", "SOFTMAX"} <= set(report["ops"])
    interp = TflmInterpreter((tmp_path / "out" / "model.tflite").read_bytes())
    images = np.random.default_rng(0).integers(0, 256, (8, 96, 96, 3), dtype=np.uint8)
    outputs = interp.run_batch(quantize_pixels(images, interp.input_details))
    assert outputs.shape == (8, 4)
    # Random weights make its output nearly input-independent; the second runtime still has to agree.
    reference = LiteRtInterpreter((tmp_path / "out" / "model.tflite").read_bytes())
    assert np.abs(reference.run_batch(quantize_pixels(images, interp.input_details)).astype(int) - outputs).max() <= 1


def test_saved_model_directory_converts(tmp_path):
    from mobilenet_tiny.models import mobilenet_v1
    from mobilenet_tiny.tf_env import keras

    keras.utils.set_random_seed(1)
    model = randomize_batchnorm(mobilenet_v1((32, 32, 1), 0.25, 4), seed=1)
    model.save(str(tmp_path / "saved"), save_format="tf")
    r = subprocess.run([CLI, "convert", str(tmp_path / "saved"), "--data", "builtin:textures?n=40",
                        "--out", str(tmp_path / "out"), "--no-report"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    interp = TflmInterpreter((tmp_path / "out" / "model.tflite").read_bytes())
    assert interp.input_details.shape == (1, 32, 32, 1) and interp.output_details.size == 4
    header = (tmp_path / "out" / "model_data.h").read_text()
    assert '#define MODEL_NUM_CLASSES 4' in header and "X(AddConv2D)" in header
