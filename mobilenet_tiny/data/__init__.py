"""Training data: image folders or built-in generated sets → uint8 arrays → tf.data pipelines.

The arrays stay uint8 (N×H×W×C, exactly the pixels a camera would hand the device); the model sees
pixels / 255, which is what its int8 input quantization (scale 1/255, zero point −128) undoes on the device.
"""
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from .builtin import BUILTIN_SETS
from .catalog import BUILTIN_PREFIX, Decoded, decode, is_builtin, natural_channels, open_source
from .split import assign_splits, check_val_split

BUILTIN_DEFAULT = "builtin:shapes"
AUGMENT_LEVELS = ("none", "light", "strong")  # training-time augmentation (data/pipeline.py)


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


@dataclass
class TrainingData:
    """Everything training takes from its data: the decoded splits with their sources, and what decoding
    found (skipped files, conversions), for the run's record and the summary printed before training."""
    labels: list[str]
    input_shape: tuple[int, int, int]
    seed: int
    parts: dict  # split name → (Source, Decoded)
    skipped: list = field(default_factory=list)  # (key, reason) of unreadable files left out
    conversions: dict = field(default_factory=dict)
    channels_chosen: str = ""  # how the input's channels were decided, when they were

    def x(self, split: str) -> np.ndarray:
        return self.parts[split][1].x

    def y(self, split: str) -> np.ndarray:
        return self.parts[split][1].y

    def summary(self) -> dict:
        return {"labels": self.labels, "input_shape": list(self.input_shape),
                "counts": {name: np.bincount(d.y, minlength=len(self.labels)).tolist()
                           for name, (_, d) in self.parts.items()},
                "skipped": len(self.skipped), "conversions": self.conversions, "channels": self.channels_chosen}

    def summary_lines(self) -> list[str]:
        """The data summary printed before training: classes, counts per split, conversions, skipped."""
        counts = {name: np.bincount(d.y, minlength=len(self.labels)) for name, (_, d) in self.parts.items()}
        shown = [name for name in ("train", "val", "test") if counts[name].sum()]
        source = self.parts["train"][0]
        h, w, c = self.input_shape
        lines = [f"data: {source.spec} — {len(self.labels)} classes, "
                 + ", ".join(f"{counts[n].sum():,} {n}" for n in shown)
                 + f"; input {h}x{w}x{c} ({'RGB' if c == 3 else 'gray'}{', ' + self.channels_chosen if self.channels_chosen else ''})"]
        width = max(len(label) for label in self.labels)
        lines.append("  " + "class".ljust(width) + "".join(f"{n:>8}" for n in shown))
        for i, label in enumerate(self.labels):
            lines.append("  " + label.ljust(width) + "".join(f"{int(counts[n][i]):>8,}" for n in shown))
        conv = self.conversions
        changes = []
        if conv.get("resized"):
            changes.append(f"{conv['resized']:,} resized from {conv.get('source_sizes')} (centre crop to "
                           f"{w}:{h}, bilinear)")
        for what, n in conv.get("converted_modes", {}).items():
            changes.append(f"{n:,} converted {what}")
        if conv.get("exif_rotated"):
            changes.append(f"{conv['exif_rotated']:,} turned upright by their EXIF orientation")
        if conv.get("generated"):
            changes.append(f"{conv['generated']:,} generated at {h}x{w}x{c} (seed {self.seed})")
        if changes:
            lines.append("  decoding: " + "; ".join(changes))
        if self.skipped:
            first = ", ".join(key for key, _ in self.skipped[:3])
            lines.append(f"  skipped {len(self.skipped)} unreadable file(s): {first}"
                         + (" …" if len(self.skipped) > 3 else "") + " (listed in the run's splits.json)")
        return lines


def _merge_conversions(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, int):
            out[key] = out.get(key, 0) + value
        elif isinstance(value, dict):
            merged = dict(out.get(key, {}))
            for k, v in value.items():
                merged[k] = merged.get(k, 0) + v
            out[key] = merged
        elif value and not out.get(key):
            out[key] = value
    return out


def load_training_data(spec: str, input_size, *, val_split: float = 0.2, val_dir: str | None = None,
                       test_split: float = 0.0, seed: int = 0, skip_bad: bool = False,
                       progress=None) -> TrainingData:
    """List, decode and split `spec` ("builtin:<name>[?n=<images>]" or a folder with one sub-folder per
    class). `input_size` is (H, W, C) or (H, W, None): None takes the data's nature (RGB for colour data).

    The validation set is `val_dir` when given (folder data only; same class folders), otherwise a
    stratified, seeded `val_split` of the data; `test_split` is held out the same way. `progress(done,
    total)` is called while images are decoded.
    """
    h, w, c = input_size
    val_split = check_val_split(val_split)
    spec = str(spec)
    if is_builtin(spec) and val_dir is not None:
        raise UserError(f"a validation folder cannot be combined with built-in data ({spec}): "
                        "use the validation split instead")
    # List both folders before decoding anything: a bad validation folder fails in milliseconds.
    source = open_source(spec, seed=seed)
    val_source = open_source(val_dir, role="validation") if val_dir is not None else None
    if val_source is not None and val_source.labels != source.labels:
        missing = sorted(set(source.labels) - set(val_source.labels))
        extra = sorted(set(val_source.labels) - set(source.labels))
        raise UserError(f"validation classes in {val_dir} differ from the training classes: "
                        f"missing {', '.join(missing) or 'none'}; unexpected {', '.join(extra) or 'none'}")
    chosen = ""
    if c is None:
        c = natural_channels(source)
        chosen = ("the data is colour" if c == 3 else "the data is gray") + "; --input HxWxC overrides"
    input_shape = check_input_shape((h, w, c))
    decoded = decode(source, input_shape, skip_bad=skip_bad, progress=progress)
    skipped = list(decoded.skipped)
    conversions = decoded.conversions
    if val_source is not None:
        val_decoded = decode(val_source, input_shape, skip_bad=skip_bad, progress=progress)
        skipped += [(f"{val_dir}/{key}", reason) for key, reason in val_decoded.skipped]
        conversions = _merge_conversions(conversions, val_decoded.conversions)
        split = assign_splits(decoded.y, 0.0, seed, test_split)
        parts = {"train": (source, _rows(decoded, split["train"])), "val": (val_source, val_decoded),
                 "test": (source, _rows(decoded, split["test"]))}
    else:
        split = assign_splits(decoded.y, val_split, seed, test_split)
        parts = {name: (source, _rows(decoded, idx)) for name, idx in split.items()}
    return TrainingData(source.labels, input_shape, seed, parts, skipped, conversions, chosen)


def _rows(decoded: Decoded, idx: np.ndarray) -> Decoded:
    return Decoded(decoded.x[idx], decoded.y[idx], [decoded.keys[i] for i in idx], [decoded.hashes[i] for i in idx])


def load_data(spec: str, input_shape: tuple[int, int, int], *, val_split: float = 0.2,
              val_dir: str | None = None, seed: int = 0, skip_bad: bool = False) -> ImageData:
    """Load `spec` — "builtin:<name>[?n=<images>]" or a folder with one sub-folder per class — at input_shape,
    split into training and validation arrays (see `load_training_data`)."""
    data = load_training_data(spec, check_input_shape(input_shape), val_split=val_split, val_dir=val_dir,
                              seed=seed, skip_bad=skip_bad)
    return ImageData(labels=data.labels, input_shape=data.input_shape, train_x=data.x("train"),
                     train_y=data.y("train").astype(np.int32), val_x=data.x("val"),
                     val_y=data.y("val").astype(np.int32), source=spec)


def __getattr__(name):
    # to_tf_dataset imports TensorFlow (seconds); load it only when asked for, so that listing folders or
    # generating data (and the CLI's error paths) stay fast.
    if name == "to_tf_dataset":
        from .pipeline import to_tf_dataset
        return to_tf_dataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AUGMENT_LEVELS", "BUILTIN_PREFIX", "ImageData", "TrainingData", "load_data", "load_training_data", "to_tf_dataset", "BUILTIN_DEFAULT", "BUILTIN_SETS"]
