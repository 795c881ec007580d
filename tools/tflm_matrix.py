#!/usr/bin/env python3
"""The full TFLM matrix (the suite runs one board per kernel set): every QEMU board x TFLM kernel set,
serial-tested byte for byte against the host TFLM wheel on the suite's MobileNetV1 and V2 and its
keras.applications MobileNet, and the one-run comparison table (compiled vs TFLM reference vs TFLM +
CMSIS-NN) for V1 a0.25 96x96x1, V2 a0.35 96x96x1 and the MLPerf VWW-shaped RGB model on each board.

    .venv/bin/python tools/tflm_matrix.py [--boards qemu_m4,qemu_m7,qemu_m55,qemu_rv32] [--images 50] [--no-serial]
                                          [--memory fast] [--json OUT.json]

qemu_rv32 has the reference kernels only (CMSIS-NN is Arm's). Needs the TFLM tree (`mobilenet-tiny tflm-tree`).
Models come from the test suite's cache
(MOBILENET_TINY_TEST_CACHE, default .cache/test-artifacts), built there if missing.
"""
import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "compiler")]

import numpy as np  # noqa: E402

SERIAL_MODELS = ("v1_gray", "v2_gray", "keras_mobilenet_a025")
TABLE_MODELS = ("v1_gray", "v2_gray", "vww_topology")


def kernel_sets(env: str) -> tuple[str, ...]:
    from mobilenet_tiny.device.board import get_board

    return ("reference", "cmsis-nn") if get_board(env).arch == "arm" else ("reference",)


def model_bytes(name: str) -> bytes:
    from compiler_helpers import zoo_model

    return zoo_model(name)


def serial_test(env: str, kernels: str, name: str, n_images: int) -> dict:
    from mobilenet_tiny.data.builtin import draw_shapes
    from mobilenet_tiny.device.board import get_board
    from mobilenet_tiny.device.emulator import Emulator
    from mobilenet_tiny.device.firmware_build import build_firmware
    from mobilenet_tiny.device.link import DeviceLink
    from mobilenet_tiny.device.serial_test import run_serial_test
    from mobilenet_tiny.interpreters import TflmInterpreter

    data = model_bytes(name)
    shape = tuple(TflmInterpreter(data).input_details.shape[1:])
    images, _ = draw_shapes(n_images, shape, 11)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "model.tflite").write_bytes(data)
        start = time.monotonic()
        build = build_firmware(env, Path(tmp) / "model.tflite", runtime="tflm", kernels=kernels,
                               out_dir=Path(tmp) / "fw", log=lambda *_: None)
        built = time.monotonic() - start
        with Emulator(get_board(env), build.firmware, time_limit=1800) as qemu, \
                DeviceLink(qemu.url, timeout=120) as link:
            link.sync()
            report = run_serial_test(link, data, images)
    return {"board": env, "kernels": kernels, "model": name, "images": report.count, "bit_exact": report.bit_exact,
            "build_seconds": round(built, 1), "flash_bytes": build.flash_bytes, "ram_bytes": build.ram_bytes,
            "instructions": int(np.median(report.latency_instructions()))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boards", default="qemu_m4,qemu_m7,qemu_m55")
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3, help="inferences per benchmark")
    parser.add_argument("--no-serial", action="store_true", help="only the comparison tables")
    parser.add_argument("--memory", default="fast", choices=("min", "balanced", "fast"),
                        help="the compiled runtime's schedule (the README's table: fast, layer by layer)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from mobilenet_tiny.device.bench import compare
    from mobilenet_tiny.device.board import get_board
    from mobilenet_tiny.device.tflm_library import build_library, find_tree
    from mobilenet_tiny.tflm_tree import default_tree_dir, read_tree_set

    boards = args.boards.split(",")
    out = {"tree": (read_tree_set(default_tree_dir()) or type("T", (), {"manifest": {}})).manifest,
           "libraries": [], "serial": [], "tables": []}
    for env in boards:
        for kernels in kernel_sets(env):
            lib = build_library(get_board(env), find_tree(kernels), log=print)
            out["libraries"].append({"board": env, "kernels": kernels, "seconds": lib.seconds,
                                     "archive": str(lib.archive)})
            print(f"library {env} {kernels}: {lib.seconds:.0f} s {'(built now)' if lib.built_now else '(cached)'}")
    if not args.no_serial:
        for env in boards:
            for kernels in kernel_sets(env):
                for name in SERIAL_MODELS:
                    row = serial_test(env, kernels, name, args.images)
                    out["serial"].append(row)
                    print(f"serial-test {env} tflm-{kernels} {name}: {row['bit_exact']}/{row['images']} bit-exact, "
                          f"{row['instructions']:,} instructions")
    for name in TABLE_MODELS:
        for env in boards:
            runtimes = ["compiled", *[f"tflm-{k}" for k in kernel_sets(env)]]
            result = compare(env, model_bytes(name), runtimes, runs=args.runs,
                             memory=args.memory, log=lambda *_: None)
            out["tables"].append(dict(result.as_dict(), model=name))
            print(f"\n{name}:")
            print("\n".join(result.table_lines()))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    bad = [r for r in out["serial"] if r["bit_exact"] != r["images"]]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
