"""Where a data set's images come from, listed before anything is decoded, then decoded once each with a
content hash (the run records the hashes, so a split can be checked against the files it names later).

A *source* is an image folder (one sub-folder per class) or a built-in generated set. Its *items* have a
key — the file's path relative to the folder, or the image's index in the generated set — and a label.
Decoding gives uint8 pixels at the model's input shape, the SHA-256 of each file's bytes (of the pixels
for generated images, which have no file), what had to be converted, and the files that could not be read.
"""
import collections
import functools
import hashlib
import io
import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import UserError
from .builtin import BUILTIN_SETS, load_builtin, parse_builtin_spec
from .folders import IMAGE_EXTENSIONS, fit_image, list_classes

BUILTIN_PREFIX = "builtin:"
SKIP_FLAG = "--skip-bad-images"


@dataclass
class Source:
    kind: str  # "folder" or "builtin"
    spec: str  # as given: a folder path or builtin:NAME[?n=N]
    labels: list[str]
    keys: list[str]  # folder: file path relative to `path` (POSIX); builtin: the image's index
    y: np.ndarray  # int32 label ids, in keys order
    path: Path | None = None  # folder: its absolute path
    seed: int = 0  # builtin: the generator's seed

    def describe(self) -> dict:
        """What regenerates or finds the source again (recorded in the run)."""
        if self.kind == "folder":
            return {"kind": "folder", "spec": self.spec, "path": str(self.path)}
        return {"kind": "builtin", "spec": self.spec, "seed": self.seed}

    def file(self, key: str) -> Path:
        return self.path / key


def is_builtin(spec) -> bool:
    return str(spec).startswith(BUILTIN_PREFIX)


def open_source(spec, *, seed: int = 0, role: str = "data") -> Source:
    """List `spec` (nothing is decoded yet). Bad folders and unknown built-in sets raise UserError."""
    spec = str(spec)
    if is_builtin(spec):
        name, params = parse_builtin_spec(spec)
        n = params.get("n", BUILTIN_SETS[name].default_n)
        minimum = 2 * len(BUILTIN_SETS[name].labels)
        if n < minimum:
            raise UserError(f"{spec!r}: n={n} is too small: at least {minimum} images (two per class) are needed")
        # Labels of generated sets come with the images; n and the seed fix them, so drawing them now at a
        # tiny size would cost as much as drawing: keys are indices, labels are filled in by decode.
        return Source("builtin", spec, list(BUILTIN_SETS[name].labels), [str(i) for i in range(n)],
                      np.full(n, -1, np.int32), seed=seed)
    classes = list_classes(spec, role=role)
    root = Path(spec).resolve()
    keys = [p.relative_to(root).as_posix() if p.is_absolute() else p.resolve().relative_to(root).as_posix()
            for files in classes.values() for p in files]
    y = np.concatenate([np.full(len(files), i, np.int32) for i, files in enumerate(classes.values())])
    return Source("folder", spec, list(classes), keys, y, path=root)


def natural_channels(source: Source, sample: int = 48) -> int:
    """3 when the data is colour, 1 when it is gray: a built-in set says; for a folder, a spread sample of
    its files is looked at (an RGB file whose channels are equal, as gray JPEGs often are, counts as gray)."""
    if source.kind == "builtin":
        return BUILTIN_SETS[parse_builtin_spec(source.spec)[0]].channels
    picks = np.unique(np.linspace(0, len(source.keys) - 1, min(sample, len(source.keys))).astype(int))
    for i in picks:
        try:
            with Image.open(source.file(source.keys[i])) as image:
                if image.mode in ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
                    continue
                image.draft("RGB", (64, 64))
                small = np.asarray(image.convert("RGB").resize((32, 32)), dtype=np.int16)
        except Exception:  # unreadable files are reported when decoding, not here
            continue
        spread = np.abs(small[..., 0] - small[..., 1]) + np.abs(small[..., 1] - small[..., 2])
        if spread.mean() > 6:
            return 3
    return 1


@dataclass
class Decoded:
    """Decoded items of a source: rows of x line up with keys, y and hashes. Skipped items are absent."""
    x: np.ndarray  # uint8 N×H×W×C
    y: np.ndarray  # int32
    keys: list[str]
    hashes: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (key, reason)
    conversions: dict = field(default_factory=dict)  # counters of what decoding had to change


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pixels_hash(pixels: np.ndarray) -> str:
    return _hash(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes())


class Unreadable(Exception):
    """A file Pillow cannot decode; the message is the reason."""


_decoded = [0]  # image files decoded by this process
_decoded_lock = threading.Lock()


def files_decoded() -> int:
    """How many image files this process has decoded so far (what a cache saves is measured by it)."""
    return _decoded[0]


def decode_file(path: Path, input_shape) -> tuple[np.ndarray, str, tuple]:
    """(pixels, sha256 of the file, (size, mode, exif-rotated)); Unreadable if the file cannot be decoded."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise Unreadable(e.strerror or str(e)) from None
    with _decoded_lock:
        _decoded[0] += 1
    try:
        with Image.open(io.BytesIO(data)) as image:
            facts = (image.size, image.mode, image.getexif().get(0x0112, 1) not in (1, None))
            return fit_image(image, input_shape), _hash(data), facts
    except Exception as error:  # Pillow raises many types for bad files: OSError, SyntaxError, ValueError…
        raise Unreadable(str(error).splitlines()[0] if str(error) else type(error).__name__) from None


def decode_in_order(paths: list[Path], input_shape):
    """Decode `paths` in threads (Pillow releases the GIL while decoding and resizing), yielding
    (i, (pixels, sha256, facts) or None, reason or None) in order. At most a few hundred files are in
    flight, so memory stays flat however many there are."""
    def work(i):
        try:
            return i, decode_file(paths[i], input_shape), None
        except Unreadable as e:
            return i, None, str(e)

    workers = min(8, os.cpu_count() or 1, max(1, len(paths)))
    window = 32 * workers
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = collections.deque()
        for i in range(len(paths)):
            pending.append(pool.submit(work, i))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class DecodeTally:
    """What decoding had to change (sizes, modes, EXIF turns), summed as images are decoded or recalled
    from a cache."""

    def __init__(self, input_shape):
        self.input_shape = input_shape
        self.sizes, self.modes, self.rotated = Counter(), Counter(), 0

    def add(self, facts):
        size, mode, was_rotated = facts
        self.sizes[tuple(size)] += 1
        self.modes[mode] += 1
        self.rotated += bool(was_rotated)

    def conversions(self) -> dict:
        h, w, c = self.input_shape
        target_mode = "L" if c == 1 else "RGB"
        return {
            "resized": sum(n for size, n in self.sizes.items() if size != (w, h)),
            "source_sizes": _size_range(self.sizes),
            "converted_modes": {f"{mode}→{target_mode}": n for mode, n in sorted(self.modes.items())
                                if mode != target_mode},
            "exif_rotated": self.rotated,
        }


def unreadable_error(path, reason: str) -> UserError:
    return UserError(f"cannot read image {path}: {reason} (pass {SKIP_FLAG} to leave unreadable files out)")


def decode(source: Source, input_shape: tuple[int, int, int], *, indices=None, skip_bad: bool = False,
           progress=None, keep_pixels: bool = True) -> Decoded:
    """Decode the items at `indices` (all when None) at input_shape, in that order.

    Unreadable files raise UserError naming the file and SKIP_FLAG, unless skip_bad (then they are left
    out and listed in `skipped`). `progress(done, total)` is called as images are decoded. keep_pixels
    False checks and hashes every file but keeps no pixels (x is None): for data streamed from its files."""
    h, w, c = input_shape
    all_indices = np.arange(len(source.keys)) if indices is None else np.asarray(indices, dtype=np.int64)
    if source.kind == "builtin":
        x, y = _generated(source.spec, tuple(input_shape), source.seed)
        x, y = x[all_indices], y[all_indices].astype(np.int32)
        if progress:
            progress(len(all_indices), len(all_indices))
        return Decoded(x, y, [source.keys[i] for i in all_indices], [pixels_hash(im) for im in x],
                       conversions={"generated": len(x)})

    paths = [source.file(source.keys[i]) for i in all_indices]
    out = np.empty((len(paths), h, w, c), dtype=np.uint8) if keep_pixels else None
    good = np.ones(len(paths), dtype=bool)
    hashes, skipped = [""] * len(paths), []
    tally = DecodeTally(input_shape)
    for done, (i, result, error) in enumerate(decode_in_order(paths, input_shape), start=1):
        if error is not None:
            if not skip_bad:
                raise unreadable_error(paths[i], error)
            good[i] = False
            skipped.append((source.keys[all_indices[i]], error))
        else:
            pixels, hashes[i], facts = result
            if out is not None:
                out[i] = pixels
            tally.add(facts)
        if progress:
            progress(done, len(paths))
    keep = np.flatnonzero(good)
    x = None if out is None else (out if len(keep) == len(out) else out[keep])
    return Decoded(x, source.y[all_indices][keep].astype(np.int32),
                   [source.keys[all_indices[i]] for i in keep], [hashes[i] for i in keep], skipped,
                   tally.conversions())


@functools.lru_cache(maxsize=1)
def _generated(spec: str, input_shape: tuple, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A generated set, drawn once per process (a run's three splits, a report's two, come from one draw)."""
    _, x, y = load_builtin(spec, input_shape, seed)
    x.flags.writeable = False
    return x, y


def _size_range(sizes: Counter) -> str:
    if not sizes:
        return ""
    widths = [s[0] for s in sizes]
    heights = [s[1] for s in sizes]
    if len(sizes) == 1:
        (w, h), = sizes
        return f"{w}×{h}"
    return f"{min(widths)}–{max(widths)} × {min(heights)}–{max(heights)} px ({len(sizes)} sizes)"


def image_extensions() -> str:
    return "/".join(sorted(IMAGE_EXTENSIONS))
