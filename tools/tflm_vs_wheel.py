#!/usr/bin/env python3
"""What differs between the host TFLM wheel and the pinned TFLM tree the firmware is built from.

1. The commit the wheel says it was built from, and the pinned tree's commit.
2. The wheel's binary against the tree: the TFLM source files it names (__FILE__ strings of its checks) and
   the kernel registrations it defines that the tree lacks.
3. A per-tensor FULLY_CONNECTED stack shaped like MLPerf Tiny's anomaly-detection model (640 -> 128 x 4 ->
   8 -> 128 x 4 -> 640, BatchNorm + ReLU between, per-tensor weights; input 1x1x1x640 so the firmware takes
   it), N random int8 inputs through TFLM firmware on QEMU (and the compiled runtime) against the wheel.

    .venv/bin/python tools/tflm_vs_wheel.py [--inputs 2000] [--board qemu_m4] [--runtimes tflm,compiled]
"""
import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402


def wheel_binary_vs_tree(tree: Path) -> tuple[list[str], list[str]]:
    from tflite_micro.python.tflite_micro import _runtime

    so = Path(_runtime.__file__)
    text = subprocess.run(["strings", "-n", "6", str(so)], capture_output=True, text=True, check=True).stdout
    files = sorted(set(re.findall(r"(?:tensorflow|signal)/[\w/]+\.(?:cc|h)\b", text)))
    missing_files = [f for f in files if not (tree / f).exists()]
    registrations = sorted(set(re.findall(r"Register_([A-Z0-9_]+?)E?v\b", text)))
    sources = "\n".join(p.read_text(errors="replace") for p in tree.rglob("*") if p.suffix in (".h", ".cc"))
    missing_regs = [r for r in registrations if f"Register_{r}" not in sources]
    return [f"{len(files)} TFLM files named, missing in the tree: {f}" for f in missing_files] or \
        [f"all {len(files)} TFLM files the wheel names are in the tree"], \
        [f"{len(registrations)} kernel registrations, missing in the tree: {r}" for r in missing_regs] or \
        [f"all {len(registrations)} kernel registrations are in the tree"]


def ad_like_fc_stack(seed: int = 0) -> bytes:
    from mobilenet_tiny.tf_env import keras, tf

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed + 1)
    inputs = keras.Input((1, 1, 640))
    x = keras.layers.Flatten()(inputs)
    for units in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = keras.layers.ReLU()(keras.layers.BatchNormalization()(keras.layers.Dense(units)(x)))
    model = keras.Model(inputs, keras.layers.Dense(640)(x))
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, m, v = layer.get_weights()
            layer.set_weights([rng.uniform(.5, 1.5, g.shape), rng.uniform(-.5, .5, b.shape),
                               rng.uniform(-.5, .5, m.shape), rng.uniform(.5, 2, v.shape)])
    representative = np.random.default_rng(seed).normal(0, 1, (200, 1, 1, 640)).astype(np.float32)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([x[None]] for x in representative)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    converter._experimental_disable_per_channel_quantization_for_dense_layers = True  # per-tensor, as MLPerf AD
    return bytes(converter.convert())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=2000)
    parser.add_argument("--board", default="qemu_m4")
    parser.add_argument("--runtimes", default="tflm,compiled")
    parser.add_argument("--batch", type=int, default=800, help="inputs per benchmark image (they sit in flash)")
    args = parser.parse_args()
    from mobilenet_tiny.device.bench import bench_model
    from mobilenet_tiny.device.tflm_library import find_tree
    from mobilenet_tiny.interpreters import TflmInterpreter
    from mobilenet_tiny.tflm_tree import TFLM_COMMIT, wheel_build_commit

    print(f"wheel: {wheel_build_commit()}; tree: tflite-micro {TFLM_COMMIT[:12]}")
    for line in sum(wheel_binary_vs_tree(find_tree("reference").path), []):
        print(line)
    model = ad_like_fc_stack()
    xs = np.random.default_rng(1).integers(-128, 128, (args.inputs, 640), dtype=np.int8)
    wheel = TflmInterpreter(model).run_batch(xs.reshape(-1, 1, 1, 640)).reshape(len(xs), -1)
    for runtime in args.runtimes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            device = np.concatenate([bench_model(model, args.board, runtime, inputs=xs[i:i + args.batch],
                                                 workdir=Path(tmp) / str(i), log=lambda *_: None).outputs
                                     for i in range(0, len(xs), args.batch)])
        bad = np.flatnonzero(np.any(device != wheel, axis=1))
        worst = int(np.abs(device.astype(int) - wheel).max()) if bad.size else 0
        print(f"per-tensor FC stack, {runtime} on {args.board}: {bad.size}/{len(xs)} inputs differ from the wheel"
              + (f" (max {worst} LSB, inputs {bad[:10].tolist()})" if bad.size else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
