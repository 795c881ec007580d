"""Training data: image folders or built-in generated sets → uint8 arrays → tf.data pipelines.

The arrays stay uint8 (N×H×W×C, exactly the pixels a camera would hand the device); the model sees
pixels / 255, which is what its int8 input quantization (scale 1/255, zero point −128) undoes on the device.
"""
from dataclasses import dataclass

import numpy as np

from ..errors import UserError
from .builtin import BUILTIN_SETS, load_builtin
from .folders import decode_classes, list_classes
from .split import check_val_split, stratified_split

BUILTIN_PREFIX = "builtin:"
BUILTIN_DEFAULT = "builtin:shapes"


@dataclass
class ImageData:
    labels: list[str]  # class names; label id = index. Folder data: sorted sub-folder names
    input_shape: tuple[int, int, int]  # (H, W, C) the images were resized/converted to
    train_x: np.ndarray  # uint8 (N, H, W, C)
    train_y: np.ndarray  # int32 (N,)
    val_x: np.ndarray  # uint8 (M, H, W, C)
    val_y: np.ndarray  # int32 (M,)
    source: str  # the spec it came from (for reports)


def check_input_shape(input_shape) -> tuple[int, int, int]:
    try:
        h, w, c = (int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise UserError(f"input shape must be (height, width, channels), got {input_shape!r}") from None
    if h < 1 or w < 1:
        raise UserError(f"input shape {h}x{w}x{c}: height and width must be positive")
    if c not in (1, 3):
        raise UserError(f"input shape {h}x{w}x{c}: channels must be 1 (gray) or 3 (RGB), got {c}")
    return h, w, c


def load_data(spec: str, input_shape: tuple[int, int, int], *, val_split: float = 0.2,
              val_dir: str | None = None, seed: int = 0) -> ImageData:
    """Load `spec` — "builtin:<name>[?n=<images>]" or a folder with one sub-folder per class — at input_shape.

    The validation set is `val_dir` when given (folder data only; it must have the same class folders),
    otherwise a stratified, seeded `val_split` of the data. Built-in sets are generated from `seed` too.
    """
    input_shape = check_input_shape(input_shape)
    val_split = check_val_split(val_split)
    spec = str(spec)
    if spec.startswith(BUILTIN_PREFIX):
        if val_dir is not None:
            raise UserError(f"a validation folder cannot be combined with built-in data ({spec}): "
                            "use the validation split instead")
        labels, x, y = load_builtin(spec, input_shape, seed)
    else:
        # List both folders before decoding anything: a bad validation folder fails in milliseconds.
        classes = list_classes(spec, role="data")
        val_classes = list_classes(val_dir, role="validation") if val_dir is not None else None
        if val_classes is not None and list(val_classes) != list(classes):
            missing = sorted(set(classes) - set(val_classes))
            extra = sorted(set(val_classes) - set(classes))
            raise UserError(f"validation classes in {val_dir} differ from the training classes: "
                            f"missing {', '.join(missing) or 'none'}; unexpected {', '.join(extra) or 'none'}")
        labels, x, y = decode_classes(classes, input_shape)

    if val_dir is not None:
        _, val_x, val_y = decode_classes(val_classes, input_shape)
        train_x, train_y = x, y
    else:
        train_idx, val_idx = stratified_split(y, val_split, seed)
        train_x, train_y, val_x, val_y = x[train_idx], y[train_idx], x[val_idx], y[val_idx]
    return ImageData(labels=labels, input_shape=input_shape, train_x=train_x, train_y=train_y.astype(np.int32),
                     val_x=val_x, val_y=val_y.astype(np.int32), source=spec)


def __getattr__(name):
    # to_tf_dataset imports TensorFlow (seconds); load it only when asked for, so that listing folders or
    # generating data (and the CLI's error paths) stay fast.
    if name == "to_tf_dataset":
        from .pipeline import to_tf_dataset
        return to_tf_dataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ImageData", "load_data", "to_tf_dataset", "BUILTIN_DEFAULT", "BUILTIN_SETS"]
