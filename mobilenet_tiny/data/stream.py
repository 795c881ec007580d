"""Images that stay on disk until a batch needs them, and the cache of decoded images (`train --cache DIR`).

A data set too large to hold decoded in memory is *streamed*: training gets a `StreamedImages` where it
would get a uint8 array, and the tf.data pipeline (data/pipeline.py) reads each image when a batch needs
it — decoding its file with the very function the in-memory path uses (folders.fit_image, run through
`tf.numpy_function` in a parallel map), or reading its decoded pixels from the cache. Either way a model
sees the same bytes as from memory, and the batches are the same: the pipeline shuffles image *indices*
with the seed and buffer the in-memory pipeline shuffles images with.

The cache holds the decoded, resized images of one image folder at one input shape, written once, reused
by later epochs and runs: `<DIR>/<entry>.json` (every file's size, mtime, SHA-256, what decoding changed,
its row, or why it was unreadable) and the pixels in `<DIR>/<entry>-<generation>.u8`, one fixed-size row
(H×W×C bytes) per image, so any image is one `pread` away: a full shuffle needs random access, which
TFRecord shards and `tf.data.Dataset.save` (read in sequence) do not give — with them the streamed
batches could not equal the in-memory ones. The entry is named by the folder, the input shape and the
preprocessing (the decoding code and Pillow's version); a file whose size or mtime changed, or a new
one, is decoded again (the unchanged rows are copied), and the new generation replaces the old in one
rename of the index, so a reader never sees half of one.
"""
import hashlib
import json
import os
import threading
import uuid
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..fileio import atomic_write
from .catalog import (DecodeTally, Decoded, Source, Unreadable, decode_file, decode_in_order,
                      unreadable_error)

CACHE_FORMAT = 1
CHANGED_MARK = "changed since the data was listed"


class FileReader:
    """Decodes image files on demand, checking each against the SHA-256 it had when it was listed (a file
    that changes during training is an error, not a silent change of what the run trained on)."""

    kind = "files"

    def __init__(self, paths: list[Path], hashes: list[str], input_shape):
        self.paths, self.hashes, self.input_shape = paths, hashes, tuple(input_shape)

    def read(self, row: int) -> np.ndarray:
        try:
            pixels, digest, _ = decode_file(self.paths[row], self.input_shape)
        except Unreadable as e:
            raise UserError(f"cannot read image {self.paths[row]}: {e} ({CHANGED_MARK})") from None
        if digest != self.hashes[row]:
            raise UserError(f"image {self.paths[row]} has {CHANGED_MARK} (content hash differs)")
        return pixels

    def describe(self) -> str:
        return "streamed from the files, decoded in parallel every epoch"


class CacheReader:
    """Reads decoded rows of a cache's pixel file (one pread each; the file stays open, so a newer
    generation replacing it does not disturb a run reading it)."""

    kind = "cache"

    def __init__(self, path: Path, input_shape):
        self.path, self.input_shape = Path(path), tuple(input_shape)
        self.row_bytes = int(np.prod(self.input_shape))
        self._fd = os.open(self.path, os.O_RDONLY)
        self._lock = threading.Lock()

    def read(self, row: int) -> np.ndarray:
        data = os.pread(self._fd, self.row_bytes, int(row) * self.row_bytes)
        if len(data) != self.row_bytes:
            raise UserError(f"cache file {self.path} is shorter than its index says (row {row})")
        return np.frombuffer(data, np.uint8).reshape(self.input_shape)

    def read_rows(self, rows) -> np.ndarray:
        out = np.empty((len(rows), *self.input_shape), np.uint8)
        for i, row in enumerate(rows):
            out[i] = self.read(row)
        return out

    def describe(self) -> str:
        return f"streamed from the cache {self.path}"

    def __del__(self, _close=os.close):  # os may be gone at interpreter shutdown: keep a reference
        fd = getattr(self, "_fd", None)
        if fd is not None:
            try:
                _close(fd)
            except OSError:
                pass


class StreamedImages:
    """uint8 N×H×W×C images read when they are needed, standing in for an array: `len`, `shape`,
    `dtype`; indexing with an array of positions gives the subset (nothing is read), with one position
    that image; `np.asarray` reads them all (for small splits only)."""

    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, reader, rows, input_shape):
        self.reader = reader
        self.rows = np.asarray(rows, dtype=np.int64)
        self.input_shape = tuple(int(v) for v in input_shape)

    @property
    def shape(self):
        return (len(self.rows), *self.input_shape)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self.reader.read(int(self.rows[index]))
        return StreamedImages(self.reader, self.rows[np.asarray(index)], self.input_shape)

    def __array__(self, dtype=None, copy=None):
        out = np.empty(self.shape, np.uint8)
        for i, row in enumerate(self.rows):
            out[i] = self.reader.read(int(row))
        return out if dtype is None else out.astype(dtype)

    def load(self, position) -> np.ndarray:
        """The image at `position` (what the tf.data pipeline calls, through tf.numpy_function)."""
        return self.reader.read(int(self.rows[int(position)]))

    @property
    def nbytes(self) -> int:
        return len(self) * int(np.prod(self.input_shape))


# ------------------------------------------------------------------------------------------ the cache
def preprocessing_version() -> str:
    """What the decoded pixels depend on besides the files: the decoding code and Pillow's version."""
    import PIL

    digest = hashlib.sha256(PIL.__version__.encode())
    for name in ("folders.py", "catalog.py"):
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


def _entry_name(root: Path, input_shape) -> str:
    key = json.dumps({"format": CACHE_FORMAT, "root": str(root), "shape": list(input_shape),
                      "preprocessing": preprocessing_version()})
    return f"{root.name or 'data'}-{'x'.join(map(str, input_shape))}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def _stat(path: Path):
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _read_index(path: Path) -> dict | None:
    try:
        index = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(index, dict) or index.get("format") != CACHE_FORMAT:
        return None
    return index


class CacheStats:
    def __init__(self):
        self.reused = 0
        self.decoded = 0
        self.path = None


def decode_cached(source: Source, input_shape, cache_dir, *, skip_bad: bool = False, progress=None):
    """Decode a folder source through the cache in `cache_dir`: every file whose size and mtime match the
    cache's record is taken from it, the others are decoded (and the cache updated). Returns (Decoded whose
    x is a StreamedImages over the cache's pixel file, CacheStats)."""
    if source.kind != "folder":
        raise UserError("--cache is for image folders: built-in sets are generated in memory")
    cache_dir = Path(cache_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the cache folder {cache_dir}: {e.strerror or e}") from None
    if not os.access(cache_dir, os.W_OK):
        raise UserError(f"the cache folder {cache_dir} is not writable")
    _remove_dead_temporaries(cache_dir)
    name = _entry_name(source.path, input_shape)
    index_path = cache_dir / f"{name}.json"
    index = _read_index(index_path)
    old_files = (index or {}).get("files", {})
    old_pixels = cache_dir / index["pixels"] if index else None
    if old_pixels is not None and not old_pixels.is_file():
        old_files, old_pixels = {}, None
    stats = CacheStats()
    keys = source.keys
    stat_now = [_stat(source.file(k)) for k in keys]
    fresh = [old_files.get(k) is not None and old_files[k]["stat"] == s for k, s in zip(keys, stat_now)]
    if all(fresh):
        stats.reused = len(keys)
        entries = [old_files[k] for k in keys]
        pixels_path = old_pixels
        if progress:
            progress(len(keys), len(keys))
    else:
        pixels_path, entries = _write_generation(cache_dir, name, source, input_shape, stat_now, fresh,
                                                 old_files, old_pixels, stats, progress)
        files = dict(old_files) if old_pixels == pixels_path else {}
        files.update(zip(keys, entries))
        atomic_write(index_path, json.dumps({"format": CACHE_FORMAT, "root": str(source.path),
                                             "input_shape": list(input_shape), "pixels": pixels_path.name,
                                             "files": files}))
        for stale in cache_dir.glob(f"{name}-*.u8"):
            if stale != pixels_path:
                stale.unlink(missing_ok=True)
    stats.path = pixels_path
    tally = DecodeTally(input_shape)
    good, skipped = [], []
    for i, (key, entry) in enumerate(zip(keys, entries)):
        if "unreadable" in entry:
            if not skip_bad:
                raise unreadable_error(source.file(key), entry["unreadable"])
            skipped.append((key, entry["unreadable"]))
        else:
            good.append(i)
            tally.add((entry["size"], entry["mode"], entry["rotated"]))
    reader = CacheReader(pixels_path, input_shape)
    x = StreamedImages(reader, [entries[i]["row"] for i in good], input_shape)
    decoded = Decoded(x, source.y[good].astype(np.int32), [keys[i] for i in good],
                      [entries[i]["sha256"] for i in good], skipped, tally.conversions())
    return decoded, stats


def _write_generation(cache_dir: Path, name: str, source: Source, input_shape, stat_now, fresh, old_files,
                      old_pixels, stats: CacheStats, progress):
    """A new pixel file: rows of fresh files copied from the old one, the others decoded. Returns (its
    path, one index entry per key)."""
    row_bytes = int(np.prod(input_shape))
    final = cache_dir / f"{name}-{uuid.uuid4().hex[:12]}.u8"
    tmp = cache_dir / f".{final.name}.{os.getpid()}.tmp"
    todo = [i for i, ok in enumerate(fresh) if not ok]
    entries = [None] * len(source.keys)
    old_fd = os.open(old_pixels, os.O_RDONLY) if old_pixels is not None and any(fresh) else None
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        row = 0
        for i, ok in enumerate(fresh):  # rows of unchanged files, copied
            if ok:
                entry = dict(old_files[source.keys[i]])
                if "row" in entry:
                    os.pwrite(fd, os.pread(old_fd, row_bytes, entry["row"] * row_bytes), row * row_bytes)
                    entry["row"] = row
                    row += 1
                entries[i] = entry
        paths = [source.file(source.keys[i]) for i in todo]
        for done, (j, result, error) in enumerate(decode_in_order(paths, input_shape), start=1):
            i = todo[j]
            if error is not None:
                entries[i] = {"stat": stat_now[i], "unreadable": error}
            else:
                pixels, digest, (size, mode, rotated) = result
                os.pwrite(fd, np.ascontiguousarray(pixels).tobytes(), row * row_bytes)
                entries[i] = {"stat": stat_now[i], "sha256": digest, "size": list(size), "mode": mode,
                              "rotated": bool(rotated), "row": row}
                row += 1
            stats.decoded += 1
            if progress:
                progress(len(fresh) - len(todo) + done, len(fresh))
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if old_fd is not None:
            os.close(old_fd)
    os.close(fd)
    stats.reused = len(fresh) - len(todo)
    os.replace(tmp, final)
    return final, entries


def _remove_dead_temporaries(cache_dir: Path):
    for tmp in cache_dir.glob(".*.tmp"):
        try:
            pid = int(tmp.name.rsplit(".", 2)[-2])
            os.kill(pid, 0)
        except (ValueError, IndexError, ProcessLookupError):
            tmp.unlink(missing_ok=True)
        except PermissionError:
            pass


def stream_files(decoded: Decoded, source: Source, input_shape) -> Decoded:
    """`decoded` (checked and hashed, without pixels) with x streaming its files."""
    paths = [source.file(k) for k in decoded.keys]
    reader = FileReader(paths, list(decoded.hashes), input_shape)
    decoded.x = StreamedImages(reader, np.arange(len(paths)), input_shape)
    return decoded
