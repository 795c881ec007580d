"""Fixtures for firmware tests: one small trained model (cached on disk), its validation images, and its
firmware per QEMU board (built once per session)."""
import numpy as np
import pytest

from artifact_cache import cached_bytes, source_hash
from tflm_helpers import require_tflm

INPUT_SHAPE = (32, 32, 1)
CLASSES = ["dark", "dim", "bright", "light"]


def synthetic_images(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gray images whose class is their brightness, under noise and striped texture: learnable in a few
    epochs at 32×32, so the model's outputs really depend on the image."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, len(CLASSES), n)
    yy, xx = np.mgrid[0:INPUT_SHAPE[0], 0:INPUT_SHAPE[1]]
    angle = rng.uniform(0, np.pi, n)[:, None, None]
    pixels = 30 + 60 * y[:, None, None] + rng.normal(0, 25, (n, *INPUT_SHAPE[:2]))
    pixels += 20 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) / 3)
    return np.clip(pixels, 0, 255).astype(np.uint8)[..., None], y.astype(np.int32)


def _train_and_convert() -> bytes:
    from mobilenet_tiny.convert.tflite import keras_to_int8_tflite
    from mobilenet_tiny.models import build_model
    from mobilenet_tiny.tf_env import keras

    keras.utils.set_random_seed(0)
    x, y = synthetic_images(800, seed=0)
    model = build_model("v1", INPUT_SHAPE, 0.25, len(CLASSES))
    for layer in model.layers:  # few steps: let BatchNorm's moving statistics catch up with the batches
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = 0.8
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy")
    model.fit(x.astype(np.float32) / 255.0, y, epochs=3, batch_size=16, verbose=0)
    return keras_to_int8_tflite(model, x[:128].astype(np.float32) / 255.0)


@pytest.fixture(scope="session")
def small_model_bytes() -> bytes:
    key = {"arch": "v1", "alpha": 0.25, "shape": INPUT_SHAPE, "data": "synthetic-brightness-800", "epochs": 3,
           "src": source_hash("models", "convert/tflite.py")}
    return cached_bytes("firmware-v1-32x32x1", key, _train_and_convert)


@pytest.fixture(scope="session")
def small_model_path(small_model_bytes, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.tflite"
    path.write_bytes(small_model_bytes)
    (path.parent / "labels.json").write_text('["dark", "dim", "bright", "light"]')
    return path


@pytest.fixture(scope="session")
def test_images():
    return synthetic_images(200, seed=1)


@pytest.fixture(scope="session")
def image_folder(test_images, tmp_path_factory):
    """The validation images as an image folder (one sub-folder per class), as a user would pass --data."""
    from PIL import Image

    root = tmp_path_factory.mktemp("images")
    for i, (image, label) in enumerate(zip(*test_images)):
        folder = root / CLASSES[label]
        folder.mkdir(exist_ok=True)
        Image.fromarray(image[..., 0]).save(folder / f"{i:04d}.png")
    return root


_builds = {}


@pytest.fixture(scope="session")
def build_for(small_model_path, tmp_path_factory):
    """build_for(board_env[, runtime, kernels]) -> FirmwareBuild of the small model, built once per session
    (TFLM builds skip when no TFLM tree is available)."""
    from mobilenet_tiny.device.board import check_runtime, get_board
    from mobilenet_tiny.device.firmware_build import build_firmware

    def build(env: str, runtime: str | None = None, kernels: str | None = None):
        runtime = check_runtime(get_board(env), runtime)
        if runtime == "tflm":
            require_tflm(kernels or "reference")
        key = (env, runtime, kernels)
        if key not in _builds:
            out = tmp_path_factory.mktemp(f"fw-{env}-{runtime}")
            _builds[key] = build_firmware(env, small_model_path, runtime=runtime, kernels=kernels, out_dir=out,
                                          log=lambda *_: None)
        return _builds[key]

    return build
