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
PIPELINES = ("auto", "memory", "stream")  # how training images reach the model (choose_pipeline)
# Decoded size up to which `auto` keeps a folder's images in memory (larger sets stream: data/stream.py).
# Measured here (tools/measure_input.py): from memory and from the cache the pipeline feeds images
# several times faster than MobileNetV1 α0.25 trains on 2 cores, so streaming costs little; memory
# holds about three copies of the decoded set at its peak (decode, split, tensor).
MEMORY_LIMIT_BYTES = 256 * 2 ** 20


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
    pipeline: str = "memory"  # "memory" (uint8 arrays) or "stream" (data.stream.StreamedImages)
    input_note: str = ""  # how the images reach the model, for the summary

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
        if self.input_note:
            lines.append(f"  input: {self.input_note}")
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
                       progress=None, pipeline: str = "auto", cache_dir=None) -> TrainingData:
    """List, decode and split `spec` ("builtin:<name>[?n=<images>]" or a folder with one sub-folder per
    class). `input_size` is (H, W, C) or (H, W, None): None takes the data's nature (RGB for colour data).

    The validation set is `val_dir` when given (folder data only; same class folders), otherwise a
    stratified, seeded `val_split` of the data; `test_split` is held out the same way. `progress(done,
    total)` is called while images are decoded.

    `pipeline` (auto, memory, stream) says whether the images are held decoded in memory (uint8 arrays)
    or streamed (data.stream.StreamedImages: decoded from their files every epoch, or read from the
    cache in `cache_dir`); `auto` streams a folder whose decoded images exceed MEMORY_LIMIT_BYTES.
    Either way every file is read, checked and hashed here, once (the record of the run needs the
    hashes, and an unreadable file must stop training before it starts, not in its tenth epoch).
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
    count = len(source.keys) + (len(val_source.keys) if val_source is not None else 0)
    mode, why = choose_pipeline(pipeline, source.kind, count, input_shape, cache_dir)
    notes = []
    decoded = decode_for_training(source, input_shape, mode, cache_dir, skip_bad=skip_bad, progress=progress,
                                  notes=notes)
    skipped = list(decoded.skipped)
    conversions = decoded.conversions
    if val_source is not None:
        val_decoded = decode_for_training(val_source, input_shape, mode, cache_dir, skip_bad=skip_bad,
                                          progress=progress, notes=notes)
        skipped += [(f"{val_dir}/{key}", reason) for key, reason in val_decoded.skipped]
        conversions = _merge_conversions(conversions, val_decoded.conversions)
        split = assign_splits(decoded.y, 0.0, seed, test_split)
        parts = {"train": (source, _rows(decoded, split["train"])), "val": (val_source, val_decoded),
                 "test": (source, _rows(decoded, split["test"]))}
    else:
        split = assign_splits(decoded.y, val_split, seed, test_split)
        parts = {name: (source, _rows(decoded, idx)) for name, idx in split.items()}
    return TrainingData(source.labels, input_shape, seed, parts, skipped, conversions, chosen, mode,
                        input_note(mode, why, count, input_shape, notes))


def choose_pipeline(pipeline: str, kind: str, count: int, input_shape, cache_dir=None) -> tuple[str, str]:
    """("memory" or "stream", why): `auto` keeps what fits MEMORY_LIMIT_BYTES decoded in memory."""
    if pipeline not in PIPELINES:
        raise UserError(f"unknown input pipeline {pipeline!r}: choose one of {', '.join(PIPELINES)}")
    if kind == "builtin":
        if pipeline == "stream":
            raise UserError("built-in sets are generated in memory: --input-pipeline stream is for image folders")
        if cache_dir is not None:
            raise UserError("--cache is for image folders: built-in sets are generated in memory")
        return "memory", "generated"
    size = count * int(np.prod(input_shape))
    if pipeline != "auto":
        return pipeline, f"--input-pipeline {pipeline}"
    limit = MEMORY_LIMIT_BYTES
    if size <= limit:
        return "memory", f"auto: {_mb(size)} decoded ≤ {_mb(limit)}"
    return "stream", f"auto: {_mb(size)} decoded > {_mb(limit)}"


def _mb(n: int) -> str:
    return f"{n / 2 ** 20:,.0f} MB" if n >= 2 ** 20 else f"{n / 2 ** 10:,.0f} KB"


def decode_for_training(source, input_shape, mode: str, cache_dir=None, *, skip_bad=False, progress=None,
                        notes=None) -> Decoded:
    """Decode `source` for the pipeline `mode`: pixels in memory (from the files or the cache), or only
    checked and hashed with x a StreamedImages over the files or the cache. `notes` collects the cache's
    (reused, decoded, pixel file)."""
    from .stream import decode_cached, stream_files

    if cache_dir is not None and source.kind == "folder":
        decoded, stats = decode_cached(source, input_shape, cache_dir, skip_bad=skip_bad, progress=progress)
        if notes is not None:
            notes.append(stats)
        if mode == "memory":
            decoded.x = np.asarray(decoded.x)
        return decoded
    if mode == "memory" or source.kind != "folder":
        return decode(source, input_shape, skip_bad=skip_bad, progress=progress)
    decoded = decode(source, input_shape, skip_bad=skip_bad, progress=progress, keep_pixels=False)
    return stream_files(decoded, source, input_shape)


def input_note(mode: str, why: str, count: int, input_shape, cache_stats) -> str:
    """The summary's line on how images reach the model."""
    size = _mb(count * int(np.prod(input_shape)))
    if cache_stats:
        reused = sum(s.reused for s in cache_stats)
        decoded = sum(s.decoded for s in cache_stats)
        where = ", ".join(str(s.path) for s in cache_stats)
        cache = f"cache {where}: {reused:,} images reused, {decoded:,} decoded"
        if mode == "memory":
            return f"in memory ({count:,} images, {size} decoded; {why}), read from the {cache}"
        return f"streamed from the {cache} ({size}; {why})"
    if mode == "memory":
        return f"in memory ({count:,} images, {size} decoded; {why})" if why != "generated" else \
            f"in memory ({count:,} images, {size}; generated)"
    return (f"streamed from the files, decoded in parallel every epoch ({count:,} images, {size} decoded; "
            f"{why}; --cache DIR decodes them once)")


def load_recorded_training_data(rs, *, pipeline: str = "auto", cache_dir=None, progress=None) -> TrainingData:
    """A run's recorded splits (data/run_splits.py) decoded again to resume it, every image checked
    against its recorded hash, through the same pipeline choice and cache as `load_training_data`."""
    from .run_splits import load_split_images, source_of

    count = sum(len(items) for items in rs.splits.values())
    kind = rs.source()["kind"]
    input_shape = tuple(rs.input_shape)
    mode, why = choose_pipeline(pipeline, kind, count, input_shape, cache_dir)
    notes, parts = [], {}
    if kind == "builtin" or (mode == "memory" and cache_dir is None):
        for name, items in rs.splits.items():
            decoded = load_split_images(rs, items, progress=progress)
            parts[name] = (source_of(items.source, rs.labels, decoded.keys, decoded.y), decoded)
    else:
        groups = {}  # one decode per folder (train and test share one; a --val folder is another)
        for name, items in rs.splits.items():
            groups.setdefault(items.source["path"], []).append((name, items))
        for path, members in groups.items():
            keys = [k for _, items in members for k in items.keys]
            y = np.concatenate([items.labels for _, items in members]).astype(np.int32)
            source = source_of(members[0][1].source, rs.labels, keys, y)
            missing = [k for k in keys if not source.file(k).is_file()]
            if missing:
                raise UserError(f"{len(missing)} of the {len(keys)} recorded images are missing from {path} "
                                f"(first: {missing[0]}): the data moved or changed since {rs.run_dir} was trained")
            decoded = decode_for_training(source, input_shape, mode, cache_dir, progress=progress, notes=notes)
            expected = [digest for _, items in members for digest in items.hashes]
            changed = [k for k, got, want in zip(decoded.keys, decoded.hashes, expected) if got != want]
            if changed:
                raise UserError(f"{len(changed)} of the {len(keys)} recorded images in {path} have changed since "
                                f"{rs.run_dir} was trained (first: {changed[0]}, content hash differs)")
            offset = 0
            for name, items in members:
                rows = np.arange(offset, offset + len(items))
                offset += len(items)
                parts[name] = (source_of(items.source, rs.labels, list(items.keys), items.labels),
                               _rows(decoded, rows))
    skipped = [(entry["file"], entry["reason"]) for entry in rs.skipped]
    return TrainingData(rs.labels, input_shape, rs.seed, parts, skipped, rs.summary.get("conversions", {}), "",
                        mode, input_note(mode, why, count, input_shape, notes))


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


__all__ = ["AUGMENT_LEVELS", "PIPELINES", "load_recorded_training_data", "BUILTIN_PREFIX", "ImageData", "TrainingData", "load_data", "load_training_data", "to_tf_dataset", "BUILTIN_DEFAULT", "BUILTIN_SETS"]
