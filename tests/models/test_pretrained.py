"""Transfer learning through the code path `--weights` takes: weights saved from a locally built
keras.applications MobileNet (nothing is downloaded) load into our V1, RGB and gray, with the input scale
folded into the first layer; training starts from them; a failed download is one line."""
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from artifact_cache import cached_bytes, source_hash

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory) -> Path:
    """keras.applications.MobileNet α0.25 without its top, random weights and BN statistics, as a .h5 of
    weights (what keras caches for weights="imagenet")."""
    def build():
        from pipeline_fixtures import randomize_batchnorm

        from mobilenet_tiny.tf_env import keras

        keras.utils.set_random_seed(4)
        model = randomize_batchnorm(keras.applications.MobileNet(input_shape=(128, 128, 3), alpha=0.25,
                                                                 include_top=False, weights=None), seed=4)
        path = tmp_path_factory.mktemp("w") / "w.h5"
        model.save_weights(str(path))
        return path.read_bytes()

    path = tmp_path_factory.mktemp("weights") / "mobilenet_2_5_128_tf_no_top.h5"
    path.write_bytes(cached_bytes("keras-app-mobilenet-notop", {"alpha": 0.25, "seed": 4,
                                                                "code": source_hash("tf_env.py")}, build))
    return path


def keras_reference(weights_file, size):
    from mobilenet_tiny.tf_env import keras

    return keras.applications.MobileNet(input_shape=(size, size, 3), alpha=0.25, include_top=False,
                                        weights=str(weights_file))


@pytest.mark.parametrize("channels", [3, 1])
def test_weights_load_into_our_v1(weights_file, channels):
    from mobilenet_tiny.models import build_model
    from mobilenet_tiny.models.pretrained import load_pretrained_backbone
    from mobilenet_tiny.tf_env import keras

    ours = build_model("v1", (48, 48, channels), 0.25, 5)
    message = load_pretrained_backbone(ours, "v1", 0.25, str(weights_file))
    assert message.startswith("initialised 54 layers from MobileNet α0.25 weights from")  # 27 conv + 27 BN
    theirs = keras_reference(weights_file, 48)
    for name in ("conv_dw_1", "conv_pw_7", "conv_pw_13_bn", "conv_dw_13_bn"):
        for a, b in zip(ours.get_layer(name).get_weights(), theirs.get_layer(name).get_weights()):
            assert np.array_equal(a, b), name
    # The same pre-activation as keras.applications where the 3×3 window is inside the image: ours on
    # pixels / 255, theirs on pixels / 127.5 - 1 (and, for gray, the gray image in all three channels).
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (2, 48, 48, channels)).astype(np.float32)
    ours_bn = keras.Model(ours.input, ours.get_layer("conv1_bn").output)(pixels / 255.0, training=False).numpy()
    rgb = pixels if channels == 3 else np.repeat(pixels, 3, axis=-1)
    theirs_bn = keras.Model(theirs.input, theirs.get_layer("conv1_bn").output)(rgb / 127.5 - 1,
                                                                                 training=False).numpy()
    inner = (slice(None), slice(1, -1), slice(1, -1))  # stride 2 'same': the last row/column meets the padding
    assert np.abs(ours_bn[inner] - theirs_bn[inner]).max() < 1e-3 * np.abs(theirs_bn).max()


def test_training_starts_from_the_weights_and_freezing_keeps_the_backbone(weights_file, tmp_path):
    import json

    from mobilenet_tiny.tf_env import keras
    from mobilenet_tiny.train import TrainConfig, train

    base = dict(data="builtin:textures?n=48", input_shape=(32, 32, 1), epochs=1, qat_epochs=0, batch_size=16,
                seed=2, warmup_epochs=0)
    logs = []
    train(TrainConfig(**base), tmp_path / "random", log=lambda line: None)
    train(TrainConfig(**base, weights=str(weights_file), freeze_base_epochs=1), tmp_path / "pre", log=logs.append)
    first = [json.loads((tmp_path / run / "history.json").read_text())[0]["first_batch_loss"]
             for run in ("random", "pre")]
    assert first[0] != pytest.approx(first[1], rel=1e-3), first  # a different starting point
    assert any(line.startswith("initialised 54 layers") and "kernel summed over RGB" in line for line in logs)
    # One frozen epoch: the backbone (BN statistics included) is what was loaded; the classifier trained.
    trained = keras.models.load_model(str(tmp_path / "pre" / "float_model.h5"), compile=False)
    loaded = keras_reference(weights_file, 128)
    for name in ("conv_pw_5", "conv_pw_5_bn", "conv_dw_13"):
        for a, b in zip(trained.get_layer(name).get_weights(), loaded.get_layer(name).get_weights()):
            assert np.array_equal(a, b), name
    untrained = trained.get_layer("logits").get_weights()[0]
    assert np.abs(untrained).sum() > 0


def test_imagenet_for_an_unpublished_alpha_is_one_error():
    from mobilenet_tiny.errors import UserError
    from mobilenet_tiny.models.pretrained import reference_model

    with pytest.raises(UserError, match=r"publishes MobileNet ImageNet weights for α 0.25, 0.5, 0.75, 1, not 0.3"):
        reference_model("v1", 0.3, "imagenet", 128)


def test_a_failed_download_is_one_line(tmp_path):
    """Nothing is fetched: an empty keras cache (HOME) and a proxy on a closed local port make keras'
    download fail at once, as it would on a machine without the network."""
    env = {**os.environ, "HOME": str(tmp_path), "https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "no_proxy": "", "NO_PROXY": ""}
    start = time.time()
    result = subprocess.run([CLI, "train", "--data", "builtin:textures?n=48", "--input", "32x32", "--epochs", "1",
                             "--qat-epochs", "0", "--weights", "imagenet", "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=300, env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and lines[-1].startswith("error: cannot download the ImageNet weights of "
                                                           "MobileNet α0.25 128×128"), result.stderr
    assert "--weights PATH.h5" in lines[-1] and sum(line.startswith("error") for line in lines) == 1
    assert time.time() - start < 120
    assert not (tmp_path / "run").exists()  # nothing half-made is left behind
    assert not list((tmp_path / ".keras").rglob("*.h5")) if (tmp_path / ".keras").exists() else True
