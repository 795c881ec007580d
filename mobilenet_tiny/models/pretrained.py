"""Transfer learning: start MobileNetV1/V2 from keras.applications' ImageNet weights of the same α.

Our builders name every layer as keras.applications does (conv1, conv_dw_1_bn, block_3_expand, …), so the
backbone's weights copy over by name; the classifier stays newly initialised. Two adjustments:

- Input scale. keras.applications' ImageNet models expect pixels / 127.5 − 1; ours see pixels / 255 (so the
  int8 input is exactly pixel − 128 on the device). The first convolution's kernel is doubled and its
  batch norm's moving mean moved by the kernel's sum, which gives the same pre-activation everywhere the
  3×3 window lies inside the image (at the border, where zero padding meets the offset, it is close).
- Channels. For a gray (1-channel) input the first kernel is summed over R, G and B: a gray image is the
  colour image whose three channels are equal.

Weights come from `keras.applications.MobileNet[V2](weights=...)` — "imagenet" (keras downloads and caches
the file for the nearest published resolution) or the path of a .h5 file of such a model — so a file the
user downloaded elsewhere and the download take the same path.
"""
import contextlib
import io
from pathlib import Path

import numpy as np

from ..errors import UserError, one_line

# What keras.applications publishes ImageNet weights for.
PUBLISHED = {
    "v1": {"alphas": (0.25, 0.5, 0.75, 1.0), "sizes": (128, 160, 192, 224), "name": "MobileNet"},
    "v2": {"alphas": (0.35, 0.5, 0.75, 1.0, 1.3, 1.4), "sizes": (96, 128, 160, 192, 224), "name": "MobileNetV2"},
}
_HEAD = ("logits", "predictions", "dropout", "global_pool", "input")
_FIRST_CONV = {"v1": ("conv1", "conv1_bn"), "v2": ("Conv1", "bn_Conv1")}


def nearest_size(arch: str, input_shape) -> int:
    h, w = input_shape[:2]
    side = (h * w) ** 0.5
    return min(PUBLISHED[arch]["sizes"], key=lambda s: (abs(s - side), s))


def reference_model(arch: str, alpha: float, weights: str, size: int):
    """keras.applications' backbone (no top) at size×size×3 with `weights` loaded; one-line errors for a
    failed download or a file that does not fit."""
    from ..tf_env import keras

    published = PUBLISHED[arch]
    if weights == "imagenet" and not any(abs(alpha - a) < 1e-9 for a in published["alphas"]):
        raise UserError(f"--weights imagenet: keras.applications publishes {published['name']} ImageNet weights "
                        f"for α {', '.join(f'{a:g}' for a in published['alphas'])}, not {alpha:g}")
    if weights != "imagenet" and not Path(weights).is_file():
        raise UserError(f"--weights {weights}: no such file")
    build = getattr(keras.applications, published["name"])
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):  # keras prints "Downloading data from …" on stdout
            return build(input_shape=(size, size, 3), alpha=alpha, include_top=False,
                         weights=weights if weights == "imagenet" else str(weights))
    except Exception as e:  # keras raises plain Exception for a failed download, ValueError for a bad file
        text = one_line(e)
        if weights == "imagenet" or "URL fetch failure" in text:
            raise UserError(f"cannot download the ImageNet weights of {published['name']} α{alpha:g} "
                            f"{size}×{size} through keras ({text[:200]}): download them on a connected machine "
                            "and pass --weights PATH.h5, or put the file in ~/.keras/models/") from None
        raise UserError(f"--weights {weights}: not {published['name']} α{alpha:g} weights "
                        f"({type(e).__name__}: {text[:200]})") from None


def load_pretrained_backbone(model, arch: str, alpha: float, weights: str, reference=None) -> str:
    """Copy the backbone weights into `model` (one of our builders') from `reference` (made by
    reference_model when None); returns a line saying what was done."""
    size = nearest_size(arch, model.input_shape[1:3])
    reference = reference or reference_model(arch, alpha, weights, size)
    theirs = {layer.name: layer for layer in reference.layers}
    first_conv, first_bn = _FIRST_CONV[arch]
    copied = 0
    for layer in model.layers:
        values = layer.get_weights()
        if not values or layer.name in _HEAD:
            continue
        if layer.name not in theirs:
            raise UserError(f"--weights {weights}: layer {layer.name} is missing from the {PUBLISHED[arch]['name']} "
                            "weights")
        source = [np.asarray(v) for v in theirs[layer.name].get_weights()]
        if layer.name == first_conv:
            kernel = source[0]
            if model.input_shape[-1] == 1:
                kernel = kernel.sum(axis=2, keepdims=True)
            source = [2.0 * kernel, *source[1:]]
        elif layer.name == first_bn:
            gamma, beta, mean, variance = source
            offset = theirs[first_conv].get_weights()[0].sum(axis=(0, 1, 2))  # the −1 of their input scale
            source = [gamma, beta, mean + offset, variance]
        if [v.shape for v in source] != [v.shape for v in values]:
            raise UserError(f"--weights {weights}: layer {layer.name} has shapes {[v.shape for v in source]}, "
                            f"the model needs {[v.shape for v in values]} (another α?)")
        layer.set_weights(source)
        copied += 1
    where = "ImageNet weights" if weights == "imagenet" else f"weights from {weights}"
    return (f"initialised {copied} layers from {PUBLISHED[arch]['name']} α{alpha:g} {where} ({size}×{size}; "
            f"input scale folded into {first_conv}{', kernel summed over RGB' if model.input_shape[-1] == 1 else ''})")


def set_backbone_trainable(model, trainable: bool):
    """Freeze (or thaw) every layer but the classifier; a frozen BatchNormalization runs in inference mode."""
    for layer in model.layers:
        if layer.name not in _HEAD:
            layer.trainable = trainable
