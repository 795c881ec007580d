"""TFLM on the emulated boards, from the pinned TFLM tree (`mobilenet-tiny tflm-tree`, or $MTK_TFLM_DIR):
firmware with TFLM's reference kernels on qemu_m4, with CMSIS-NN's on qemu_m55 (one Arm board per kernel
set; tools/tflm_matrix.py runs all six) and with the reference kernels on qemu_rv32 (whose toolchain has no
C++ library: TFLM compiles against the Arm package's libstdc++ headers), serial-tested byte for byte
against the host TFLM wheel on this project's MobileNetV1 and V2 and a keras.applications MobileNet; the
benchmark harness measuring what the firmware runs; an arena too small reported by hello; and the one known
difference between the tree and the wheel (per-tensor FULLY_CONNECTED multipliers). Skipped, with the
reason, when no tree is available."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tflm_helpers import require_tflm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "compiler"))  # the compiler tests' model zoo
from compiler_helpers import zoo_model  # noqa: E402

pytestmark = [pytest.mark.qemu, pytest.mark.tflm]

SUITE_MATRIX = [("qemu_m4", "reference"), ("qemu_m55", "cmsis-nn"), ("qemu_rv32", "reference")]
N_IMAGES = 32


def _shapes_images(shape, n: int, seed: int) -> np.ndarray:
    """Photo-like uint8 images (lit paper, clutter, noise) as a camera would send them."""
    from mobilenet_tiny.data.builtin import draw_shapes

    pixels, _ = draw_shapes(n, tuple(shape), seed)
    return pixels


def _serial_test(env: str, build, model_bytes: bytes, images):
    from mobilenet_tiny.device.board import get_board
    from mobilenet_tiny.device.emulator import Emulator
    from mobilenet_tiny.device.link import DeviceLink
    from mobilenet_tiny.device.serial_test import run_serial_test

    with Emulator(get_board(env), build.firmware, time_limit=900) as qemu, DeviceLink(qemu.url, timeout=120) as link:
        link.sync()
        return run_serial_test(link, model_bytes, images)


@pytest.mark.parametrize("name", ["v1_gray", "v2_gray", "keras_mobilenet_a025"])
def test_tflm_firmware_is_bit_exact_with_host_tflm(name, tmp_path):
    """Each kernel set on its board, the boards serial-tested at the same time (the link, not the
    inference, takes most of the time, and an idle QEMU board sleeps)."""
    from concurrent.futures import ThreadPoolExecutor

    from mobilenet_tiny.device.bench import bench_model
    from mobilenet_tiny.device.firmware_build import build_firmware
    from mobilenet_tiny.interpreters import TflmInterpreter, quantize_pixels

    for env, kernels in SUITE_MATRIX:
        require_tflm(kernels, env)
    model_bytes = zoo_model(name)
    (tmp_path / "model.tflite").write_bytes(model_bytes)
    builds = {(env, kernels): build_firmware(env, tmp_path / "model.tflite", runtime="tflm", kernels=kernels,
                                             out_dir=tmp_path / f"fw-{env}", log=lambda *_: None)
              for env, kernels in SUITE_MATRIX}
    host = TflmInterpreter(model_bytes)
    images = _shapes_images(host.input_details.shape[1:], N_IMAGES, seed=11)
    with ThreadPoolExecutor(len(SUITE_MATRIX)) as pool:
        reports = dict(zip(builds, pool.map(lambda key: _serial_test(key[0], builds[key], model_bytes, images),
                                            builds)))
    inputs = quantize_pixels(images, host.input_details)
    outputs = host.run_batch(inputs)
    assert len({o.tobytes() for o in outputs}) > 3, f"{name}: outputs barely vary, the comparison means little"
    for (env, kernels), report in reports.items():
        build, h = builds[env, kernels], report.hello
        assert build.runtime_name == f"tflm-{kernels}" and build.macs > 1_000_000
        assert build.tflm_library is not None and build.tflm_library.archive.is_file()
        assert report.count == N_IMAGES
        assert report.mismatches == [], f"{env} {kernels}: " + "\n".join(report.summary_lines())
        assert (h.runtime, h.runtime_error, h.model_sha256) == (f"tflm-{kernels}", "", build.facts.sha256)
        assert 0 < h.arena_bytes <= build.arena_bytes
        if name == "v1_gray":
            # The benchmark image runs the same runtime code as this firmware: same instructions per
            # inference (to the 40-instruction tick of the Arm boards), same outputs, same arena.
            bench = bench_model(model_bytes, env, f"tflm-{kernels}", inputs=inputs[:2].reshape(2, -1),
                                workdir=tmp_path / f"bench-{env}", log=lambda *_: None)
            assert np.array_equal(bench.outputs, outputs[:2].reshape(2, -1))
            firmware = [t * h.instructions_per_tick for t in report.latency_ticks[:2]]
            assert all(abs(b - f) <= 40 for b, f in zip(bench.instructions, firmware)), (bench.instructions, firmware)
            assert bench.arena_bytes == h.arena_bytes


def test_arena_too_small_is_reported_by_hello(small_model_path, test_images, tmp_path):
    """AllocateTensors failing leaves a device that answers: hello and every infer say why; pings work."""
    from mobilenet_tiny.device.board import get_board
    from mobilenet_tiny.device.emulator import Emulator
    from mobilenet_tiny.device.firmware_build import build_firmware
    from mobilenet_tiny.device.link import DeviceError, DeviceLink

    require_tflm("reference")
    input_bytes = int(np.prod(test_images[0].shape[1:]))
    build = build_firmware("qemu_m4", small_model_path, runtime="tflm", kernels="reference", arena_bytes=input_bytes,
                           out_dir=tmp_path / "fw", log=lambda *_: None)
    assert build.arena_bytes == input_bytes
    with Emulator(get_board("qemu_m4"), build.firmware, time_limit=120) as qemu, DeviceLink(qemu.url, timeout=20) as link:
        link.sync()
        hello = link.hello()
        assert "AllocateTensors failed" in hello.runtime_error and hello.arena_bytes == 0
        with pytest.raises(DeviceError, match="AllocateTensors failed"):
            link.infer(test_images[0][0])
        assert link.ping(b"still here") == b"still here"


@pytest.mark.parametrize("env,kernels", SUITE_MATRIX)
def test_bench_compares_runtimes_in_one_run(env, kernels, small_model_path, tmp_path):
    require_tflm(kernels, env)
    tflm = f"tflm-{kernels}"
    result = subprocess.run([sys.executable, "-m", "mobilenet_tiny.cli", "bench", "--board", env, "--model",
                             str(small_model_path), "--runtime", f"compiled,{'tflm' if kernels == 'reference' else tflm}",
                             "--runs", "2", "--profile", "--json"], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    numbers = json.loads(result.stdout)
    assert numbers["baseline"] == "compiled" and numbers["macs"] > 100_000
    compiled, other = numbers["rows"]
    assert (compiled["runtime"], other["runtime"]) == ("compiled", tflm)
    assert compiled["ratio_instructions"] == 1.0
    assert other["ratio_instructions"] == pytest.approx(
        other["instructions_per_inference"] / compiled["instructions_per_inference"], abs=1e-4)
    assert other["instructions_per_mac"] == pytest.approx(other["instructions_per_inference"] / numbers["macs"])
    for row in (compiled, other):
        assert 0 < row["arena_bytes"] < row["ram_bytes"] and row["flash_bytes"] > 0
        # The per-layer profile (a second image with the hooks) accounts for the whole inference.
        layers = sum(layer["instructions"] for layer in row["profile"])
        assert 0.9 * row["instructions_per_inference"] < layers < 1.1 * row["instructions_per_inference"]
    # TFLM's interpreter costs memory the compiled runtime does not.
    assert other["ram_bytes"] > compiled["ram_bytes"] and other["flash_bytes"] > compiled["flash_bytes"]


def _fc_tie_model(seed: int = 3, channels: int = 40) -> tuple[bytes, list[int], tuple, tuple]:
    """One per-tensor FULLY_CONNECTED whose accumulators, for the input at its zero point, sit on the
    rounding ties where a float32 product of the scales and a double one give different outputs (the models
    of tests/compiler/test_scale_products.py, with an image-shaped 1x1x1x1 input the firmware takes)."""
    from tflite import BuiltinOperator, TensorType

    import flatbuffer_models as fm
    from test_scale_products import double_product, float32_product, tie_channels

    f32 = np.float32
    rng = np.random.default_rng(seed)
    s_in, s_out = float(f32(rng.uniform(0.005, 0.05))), float(f32(rng.uniform(0.02, 0.2)))
    in_zp = int(rng.integers(-20, 20))
    scales, bias = tie_channels(rng, s_in, s_out, channels, per_channel=False)
    tensors = [fm.T((1, 1, 1, 1), TensorType.INT8, [s_in], [in_zp]),
               fm.T((channels, 1), TensorType.INT8, scales, [0], np.ones((channels, 1), np.int8)),
               fm.T((channels,), TensorType.INT32, [float(f32(s_in * scales[0]))], [0], bias),
               fm.T((1, channels), TensorType.INT8, [s_out], [0])]
    model = fm.build_model(tensors, BuiltinOperator.FULLY_CONNECTED, [0, 1, 2], [3], fm.fully_connected_options())
    return model, [int(b) for b in bias], float32_product(s_in, scales[0], s_out), double_product(s_in, scales[0], s_out)


@pytest.mark.parametrize("env,kernels", SUITE_MATRIX)
def test_tree_and_wheel_differ_only_in_the_per_tensor_fc_multiplier(env, kernels, tmp_path):
    """The one difference found between the pinned tree (90b983c) and the wheel (8f6596d): the tree's
    GetQuantizedConvolutionMultipler multiplies input and filter scales in float32, the wheel in double. On
    the ties the two round apart the device gives the float32 result, the wheel the double one; on every
    other input they agree. Fails once the tree is pinned to a commit that forms it as the wheel does (then
    the README's note on the difference goes)."""
    from compiler_helpers import multiply_by_quantized_multiplier, op_inputs

    from mobilenet_tiny.device.bench import bench_model
    from mobilenet_tiny.interpreters import TflmInterpreter

    require_tflm(kernels, env)
    model, bias, as_float32, as_double = _fc_tie_model()
    assert as_float32 != as_double
    inputs = op_inputs(model, n=8)  # random, then all -128, all 127, and the zero point (the ties)
    device = bench_model(model, env, f"tflm-{kernels}", inputs=inputs.reshape(len(inputs), -1), workdir=tmp_path,
                         log=lambda *_: None).outputs
    wheel = TflmInterpreter(model).run_batch(inputs).reshape(len(inputs), -1)

    def predicted(multiplier):
        return np.array([np.clip(multiply_by_quantized_multiplier(b, *multiplier), -128, 127) for b in bias], np.int8)

    assert np.array_equal(wheel[-1], predicted(as_double))
    assert np.array_equal(device[-1], predicted(as_float32))
    assert not np.array_equal(device[-1], wheel[-1])
    assert np.array_equal(device[:-1], wheel[:-1])
