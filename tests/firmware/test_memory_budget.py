"""A model that does not fit the board's RAM budget fails the build with a message that says so: before
building when its arena alone is too big, at link time (the board's linker script) when arena, buffers
and stack together are. Either way the project built before stays as it was, firmware and all."""
import hashlib

import numpy as np
import pytest

from artifact_cache import cached_bytes, source_hash
from mobilenet_tiny.device.firmware_build import build_firmware
from mobilenet_tiny.errors import UserError

pytestmark = pytest.mark.qemu


def _one_conv_model(size: int):
    def build() -> bytes:
        from mobilenet_tiny.convert.tflite import keras_to_int8_tflite
        from mobilenet_tiny.tf_env import keras

        keras.utils.set_random_seed(0)
        x = keras.Input((size, size, 3))
        y = keras.layers.Conv2D(16, 3, padding="same", activation="relu")(x)
        y = keras.layers.GlobalAveragePooling2D()(y)
        y = keras.layers.Dense(2, activation="softmax")(y)
        rep = np.random.default_rng(0).random((4, size, size, 3), dtype=np.float32)
        return keras_to_int8_tflite(keras.Model(x, y), rep)
    return build


@pytest.mark.parametrize("env,budget,size,expected", [
    # 256×256×16 int8 activation = 1 MiB: the arena alone exceeds 256 KiB, caught before building.
    ("qemu_m4", "256 KiB", 256, "its tensor arena needs"),
    # 124×124: the arena (the conv runs in bands, its output 124·124·16 over the input's rows it has read:
    # ≈ 241 KiB) fits 256 KiB, but with the 16 KiB stack and 4 KiB heap floor the linker script's RAM region
    # overflows.
    ("qemu_m4", "256 KiB", 124, "bytes more RAM"),
    # The RISC-V board links for an ESP32-C3's 400 KiB: 158×158 (≈ 391 KiB of arena) fits the arena check,
    # not the linker script with stack and heap.
    ("qemu_rv32", "400 KiB", 158, "bytes more RAM"),
])
def test_model_too_big_for_ram_fails_clearly(tmp_path, env, budget, size, expected):
    model = tmp_path / "big.tflite"
    model.write_bytes(cached_bytes(f"firmware-one-conv-{size}", {"src": source_hash("convert/tflite.py")},
                                   _one_conv_model(size)))
    with pytest.raises(UserError) as err:
        build_firmware(env, model, out_dir=tmp_path / "fw", log=lambda *_: None)
    message = str(err.value)
    assert message.startswith(f"model does not fit {env}") and budget in message and "\n" not in message
    assert expected in message, message
