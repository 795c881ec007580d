"""Session-wide trained and converted models, built once and cached on disk (tests/artifact_cache.py).

Other test packages (compiler, firmware) may use these too: import the fixtures through conftest.py."""
import pytest

from artifact_cache import cached_bytes, cached_dir, source_hash
from mobilenet_tiny.fit import randomize_batchnorm  # noqa: F401 (the tests' models take fit's)

TRAINING_CODE = ("models", "data", "train.py", "convert", "interpreters.py", "tf_env.py")

# The end-to-end run: the README's default model (MobileNetV1 α0.25, 96×96 gray) on the built-in set that
# learns fastest (textures), shorter than the demo so the suite stays fast.
E2E_RUN = dict(arch="v1", alpha=0.25, input_shape=(96, 96, 1), data="builtin:textures?n=1600", epochs=6,
               qat_epochs=2, batch_size=32, lr=3e-3, seed=0)


@pytest.fixture(scope="session")
def trained_run():
    """A run directory trained (float + QAT) and converted: model.tflite, C array, report.json."""
    from mobilenet_tiny.convert.pipeline import convert_model
    from mobilenet_tiny.train import TrainConfig, train

    def build(path):
        train(TrainConfig(**E2E_RUN), path, log=lambda line: None)
        convert_model(path, log=lambda line: None)

    return cached_dir("e2e-run", {"run": E2E_RUN, "code": source_hash(*TRAINING_CODE)}, build)


def keras_application_h5(which: str, input_shape, alpha: float, classes: int, seed: int = 0) -> bytes:
    """keras.applications MobileNet / MobileNetV2 with random weights, as .h5 bytes (cached)."""
    def build():
        import tempfile
        from pathlib import Path

        from mobilenet_tiny.tf_env import keras

        keras.utils.set_random_seed(seed)
        cls = {"mobilenet": keras.applications.MobileNet, "mobilenet_v2": keras.applications.MobileNetV2}[which]
        model = randomize_batchnorm(cls(input_shape=input_shape, alpha=alpha, weights=None, classes=classes), seed)
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "model.h5"
            model.save(path, save_format="h5")
            return path.read_bytes()

    return cached_bytes(f"keras-app-{which}", {"which": which, "shape": input_shape, "alpha": alpha,
                                               "classes": classes, "seed": seed, "code": source_hash("tf_env.py")},
                        build)


# A small photo-like folder as a user's would be (JPEG files of several sizes, one corrupt file), and a
# tiny run trained on it with a test split: what the split, report and device tests judge.
PHOTO_FOLDER = dict(n=64, seed=5, classes=4)
PHOTO_RUN = dict(arch="v1", alpha=0.25, input_shape=(32, 32, None), val_split=0.2, test_split=0.2, epochs=2,
                 qat_epochs=1, batch_size=16, seed=1, skip_bad_images=True)
CORRUPT_FILE = "ball/corrupt.jpg"


@pytest.fixture(scope="session")
def photo_folder():
    from mobilenet_tiny.data.photos import write_photo_folder

    def build(path):
        write_photo_folder(path, **PHOTO_FOLDER)
        (path / CORRUPT_FILE).write_bytes(b"\xff\xd8\xff\xe0 a JPEG header and then nothing")

    return cached_dir("photo-folder", {**PHOTO_FOLDER, "code": source_hash("data/photos.py", "data/folders.py")},
                      build)


@pytest.fixture(scope="session")
def photo_run(photo_folder):
    """The run directory: config, splits.json, labels.txt, models, test.json, train.log, converted model and
    report (convert's default: the validation split, the test split apart)."""
    from mobilenet_tiny.convert.pipeline import convert_model
    from mobilenet_tiny.train import TrainConfig, train

    config = {**PHOTO_RUN, "data": str(photo_folder)}

    def build(path):
        lines = []
        train(TrainConfig(**config), path, log=lines.append)
        (path / "train.log").write_text("\n".join(lines) + "\n")
        convert_model(path, log=lambda line: None)

    return cached_dir("photo-run", {"run": config, "code": source_hash(*TRAINING_CODE)}, build)
