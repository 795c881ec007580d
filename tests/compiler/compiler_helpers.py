"""Helpers for the compiled-runtime tests: cached converted models, test inputs, the TFLM comparison.
(A uniquely named module rather than conftest.py, so `import` finds it whichever conftest loaded first.)"""
import hashlib
from pathlib import Path

import numpy as np

from artifact_cache import cached_bytes, source_hash

HERE = Path(__file__).resolve().parent


def multiply_by_quantized_multiplier(acc: int, multiplier: int, shift: int) -> int:
    """TFLM's reference MultiplyByQuantizedMultiplier (double rounding) in exact integer arithmetic:
    RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc * 2^left, multiplier), right)."""
    left, right = max(shift, 0), max(-shift, 0)
    ab = acc * (1 << left) * multiplier
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    x = abs(ab + nudge) // (1 << 31) * (1 if ab + nudge >= 0 else -1)  # truncating division, as gemmlowp
    mask = (1 << right) - 1
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> right) + (1 if x & mask > threshold else 0)


def zoo_key(**params) -> dict:
    """Cache key: the parameters plus every source the artifact depends on."""
    zoo = hashlib.sha256((HERE / "model_zoo.py").read_bytes()).hexdigest()[:16]
    return dict(params, src=source_hash("models", "convert", "data"), zoo=zoo)


def cached_model(name: str, build, **params) -> bytes:
    return cached_bytes(f"compiler-{name}", zoo_key(**params), build)


def zoo_model(name: str) -> bytes:
    """The zoo's whole models by the names every test and tool uses, each built once (cached by content)."""
    import model_zoo as zoo

    return {
        "v1_gray": lambda: cached_model("v1-gray", lambda: zoo.mobilenet("v1", (96, 96, 1)), arch="v1", shape="96x96x1"),
        "v1_rgb": lambda: cached_model("v1-rgb", lambda: zoo.mobilenet("v1", (96, 96, 3)), arch="v1", shape="96x96x3"),
        "v2_gray": lambda: cached_model("v2-gray", lambda: zoo.mobilenet("v2", (96, 96, 1)), arch="v2", shape="96x96x1"),
        "keras_mobilenet_a025": lambda: cached_model(
            "kapp-v1", lambda: zoo.keras_application("mobilenet", alpha=0.25), kind="mobilenet", alpha=0.25),
        "keras_mobilenet_v2_a035": lambda: cached_model(
            "kapp-v2", lambda: zoo.keras_application("mobilenet_v2", alpha=0.35), kind="mobilenet_v2", alpha=0.35),
        "vww_topology": lambda: cached_model("vww", lambda: zoo.vww_topology(), kind="vww"),
    }[name]()


def make_inputs(model_bytes: bytes, n_random: int = 200, n_images: int = 40, seed: int = 0) -> np.ndarray:
    """≥ 240 int8 inputs: uniform random, structured extremes, and built-in `shapes` images as a camera
    would deliver them (uint8 pixels quantized with the model's input scale and zero point)."""
    from mobilenet_tiny.interpreters import TflmInterpreter, quantize_pixels
    from mobilenet_tiny.data.builtin import draw_shapes

    info = TflmInterpreter(model_bytes).input_details
    shape = tuple(info.shape[1:])
    rng = np.random.default_rng(seed)
    random = rng.integers(-128, 128, size=(n_random, *shape), dtype=np.int8)
    h, w = shape[0], shape[1]
    yy, xx = np.mgrid[0:h, 0:w]
    structured = np.stack([
        np.full(shape, -128), np.full(shape, 127), np.full(shape, info.zero_point),
        np.broadcast_to((((yy // 4 + xx // 4) % 2) * 255 - 128)[..., None], shape),  # checkerboard
        np.broadcast_to((xx * 255 // max(w - 1, 1) - 128)[..., None], shape),  # horizontal ramp
        np.broadcast_to((yy * 255 // max(h - 1, 1) - 128)[..., None], shape),  # vertical ramp
    ]).astype(np.int8)
    pixels, _ = draw_shapes(n_images, shape, seed + 1)
    images = quantize_pixels(pixels, info)
    return np.concatenate([random, structured, images])


def op_inputs(model_bytes: bytes, n: int = 24, seed: int = 0) -> np.ndarray:
    """Inputs for single-op models: uniform random plus all -128, all 127 and all zero point."""
    from mobilenet_tiny.interpreters import TflmInterpreter

    info = TflmInterpreter(model_bytes).input_details
    shape = info.shape[1:]
    rng = np.random.default_rng(seed)
    extremes = np.stack([np.full(shape, -128), np.full(shape, 127), np.full(shape, info.zero_point)])
    return np.concatenate([rng.integers(-128, 128, size=(n, *shape)), extremes]).astype(np.int8)


def assert_matches_tflm(model_bytes: bytes, inputs: np.ndarray, extra_flags=(), label: str = "",
                        memory: str = "balanced") -> np.ndarray:
    """Compiled (host gcc) outputs == TFLM outputs byte for byte on every input; returns the outputs."""
    from mobilenet_tiny.compiler.host import CompiledHostInterpreter
    from mobilenet_tiny.interpreters import TflmInterpreter

    compiled = CompiledHostInterpreter(model_bytes, extra_flags=extra_flags, memory=memory)
    try:
        ours = compiled.run_many(inputs)
    finally:
        compiled.close()
    ref = TflmInterpreter(model_bytes).run_batch(inputs).reshape(len(inputs), -1)
    bad = np.flatnonzero(np.any(ours != ref, axis=1))
    assert bad.size == 0, (f"{label}: {bad.size}/{len(inputs)} inputs differ from TFLM, first #{bad[0]}: "
                           f"ours {ours[bad[0]].tolist()[:16]} tflm {ref[bad[0]].tolist()[:16]}")
    return ours


def poisoned_build_differs(tmp_path: Path, model_bytes: bytes, graph, steps, plan, inputs: np.ndarray) -> bool:
    """Whether a poison-freed host build of `plan` (one a test has broken on purpose) gives other outputs
    than TFLM on `inputs`: the proof that the poison build catches a bad plan."""
    import subprocess

    from mobilenet_tiny.compiler import codegen
    from mobilenet_tiny.compiler.host import build_host_executable
    from mobilenet_tiny.interpreters import TflmInterpreter

    labels = ["a", "b", "c", "d"]
    (tmp_path / "bad.h").write_text(codegen.render_header("bad", graph.model, labels, plan.arena_bytes, 0, 0))
    (tmp_path / "bad.c").write_text(codegen.render_source("bad", steps, plan, graph, labels))
    exe = build_host_executable(tmp_path, "bad", tmp_path / "bad", ["-DMTK_POISON_FREED"])
    out = np.frombuffer(subprocess.run([str(exe)], input=inputs.tobytes(), capture_output=True).stdout,
                        np.int8).reshape(len(inputs), -1)
    return bool(np.any(out != TflmInterpreter(model_bytes).run_batch(inputs).reshape(len(inputs), -1)))


def assert_live_buffers_apart(plan) -> None:
    """Every buffer of an arena plan lies inside the arena, and two buffers live at the same time never share
    a byte."""
    buffers = list(plan.buffers.values())
    for i, a in enumerate(buffers):
        assert 0 <= a.offset and a.offset + a.size <= plan.arena_bytes
        for b in buffers[i + 1:]:
            if a.overlaps_in_time(b):
                assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (a, b)
