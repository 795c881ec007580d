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


@pytest.mark.parametrize("size,expected", [
    # 256×256×16 int8 activation = 1 MiB: the arena alone exceeds 256 KiB, caught before building.
    (256, "its tensor arena needs"),
    # 115×115: the arena (input 115·115·3 + output 115·115·16 ≈ 245 KiB) fits 256 KiB, but with the
    # 16 KiB stack and 4 KiB heap floor the linker script's RAM region overflows.
    (115, "bytes more RAM"),
])
def test_model_too_big_for_ram_fails_clearly(tmp_path, size, expected, small_model_path):
    model = tmp_path / "big.tflite"
    model.write_bytes(cached_bytes(f"firmware-one-conv-{size}", {"src": source_hash("convert/tflite.py")},
                                   _one_conv_model(size)))
    build_firmware("qemu_m4", small_model_path, out_dir=tmp_path / "fw", log=lambda *_: None)
    before = tree_hashes(tmp_path / "fw")
    assert "src/model/model.c" in before and ".pio/build/qemu_m4/firmware.elf" in before
    with pytest.raises(UserError) as err:
        build_firmware("qemu_m4", model, out_dir=tmp_path / "fw", log=lambda *_: None)
    message = str(err.value)
    assert message.startswith("model does not fit qemu_m4") and "256 KiB" in message and "\n" not in message
    assert expected in message, message
    assert tree_hashes(tmp_path / "fw") == before
    assert sorted(p.name for p in tmp_path.iterdir()) in (["big.tflite", "fw"],
                                                          ["big.tflite", "fw", "fw.failed-build.log"])


def tree_hashes(root) -> dict:
    """{relative path: sha256} of every file under root."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}
