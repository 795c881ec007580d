"""The splits a training run used, recorded in the run directory (splits.json, labels.txt), so that every
later command judges the model on the images it did not train on — and can prove which ones those were.

splits.json holds the data source (an image folder's absolute path, or a built-in set's spec and seed,
which regenerate it), the model input shape the images were decoded at, and for each split (train, val,
test) every image: its file (path relative to the folder) or index (generated sets), its label and the
SHA-256 of its content (the file's bytes; for a generated image, its uint8 pixels). Reading a split back
checks every hash: a changed, missing or regenerated-differently image is an error, not a silent change of
what "validation accuracy" means. Skipped unreadable files and the data summary are recorded too.
"""
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..fileio import atomic_write
from .catalog import Decoded, Source, decode, is_builtin
from .split import SPLITS

SPLITS_FILE = "splits.json"
LABELS_FILE = "labels.txt"
FORMAT = 1


@dataclass
class SplitItems:
    """One recorded split: where its images come from and which they are."""
    source: dict  # Source.describe() of the folder or set they belong to
    keys: list[str]
    labels: np.ndarray  # int32 label ids
    hashes: list[str]

    def __len__(self):
        return len(self.keys)


@dataclass
class RunSplits:
    run_dir: Path
    labels: list[str]
    input_shape: tuple[int, int, int]
    seed: int
    splits: dict[str, SplitItems]
    skipped: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def items(self, split: str) -> SplitItems:
        if split not in self.splits:
            raise UserError(f"unknown split {split!r}: choose one of {', '.join(SPLITS)} or all")
        return self.splits[split]

    def source(self) -> dict:
        """The data source training named (its train split's)."""
        return self.splits["train"].source


def write_run_splits(run_dir, *, labels: list[str], input_shape, seed: int,
                     parts: dict[str, tuple[Source, Decoded]], skipped: list[tuple[str, str]],
                     summary: dict) -> Path:
    """Record the splits (each a Source and the decoded items of it that form the split) and labels.txt."""
    run_dir = Path(run_dir)
    record = {"format": FORMAT, "labels": list(labels), "input_shape": list(input_shape), "seed": seed,
              "splits": {}, "skipped": [{"file": key, "reason": reason} for key, reason in skipped],
              "summary": summary}
    for name in SPLITS:
        source, decoded = parts[name]
        key_name = "file" if source.kind == "folder" else "index"
        record["splits"][name] = {
            "source": source.describe(),
            "images": [{key_name: key if source.kind == "folder" else int(key), "label": labels[int(label)],
                        "sha256": digest} for key, label, digest in zip(decoded.keys, decoded.y, decoded.hashes)],
        }
    atomic_write(run_dir / LABELS_FILE, "".join(f"{label}\n" for label in labels))
    return atomic_write(run_dir / SPLITS_FILE, json.dumps(record, indent=1, ensure_ascii=False))


def read_run_splits(run_dir) -> RunSplits | None:
    """The run's recorded splits, or None for a run that predates them."""
    path = Path(run_dir) / SPLITS_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
        labels = [str(label) for label in record["labels"]]
        index = {label: i for i, label in enumerate(labels)}
        splits = {}
        for name in SPLITS:
            part = record["splits"][name]
            images = part["images"]
            splits[name] = SplitItems(
                part["source"], [str(im["file"] if "file" in im else im["index"]) for im in images],
                np.array([index[im["label"]] for im in images], dtype=np.int32), [im["sha256"] for im in images])
        return RunSplits(Path(run_dir), labels, tuple(record["input_shape"]), int(record["seed"]), splits,
                         record.get("skipped", []), record.get("summary", {}))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UserError(f"{path}: unreadable split record ({type(e).__name__}: {e})") from None


def source_of(description: dict, labels: list[str], keys: list[str], y: np.ndarray, root=None) -> Source:
    """A Source over exactly `keys` of a recorded source (`root` replaces a folder's recorded path)."""
    if description["kind"] == "folder":
        path = Path(root).resolve() if root is not None else Path(description["path"])
        return Source("folder", str(path), labels, keys, y, path=path)
    return Source("builtin", description["spec"], labels, keys, y, seed=int(description["seed"]))


def files_present(items: SplitItems, root) -> bool:
    """Whether every file of a folder split exists under `root` (a moved copy of the data)."""
    return items.source["kind"] == "folder" and all((Path(root) / key).is_file() for key in items.keys)


def load_split_images(rs: RunSplits, items: SplitItems, indices=None, root=None, progress=None) -> Decoded:
    """Decode a recorded split (or the rows `indices` of it) and check every image against its hash."""
    indices = np.arange(len(items)) if indices is None else np.asarray(indices, dtype=np.int64)
    keys = [items.keys[i] for i in indices]
    y = items.labels[indices]
    source = source_of(items.source, rs.labels, keys, y, root)
    where = source.path if source.kind == "folder" else source.spec
    if source.kind == "folder":
        missing = [k for k in keys if not source.file(k).is_file()]
        if missing:
            raise UserError(f"{len(missing)} of the {len(keys)} recorded images are missing from {where} "
                            f"(first: {missing[0]}): the data moved or changed since {rs.run_dir} was trained "
                            "(pass --data DIR where it is now)")
        decoded = decode(source, rs.input_shape, progress=progress)
    else:
        decoded = decode(_whole_set(source), rs.input_shape, indices=[int(k) for k in keys], progress=progress)
    expected = [items.hashes[i] for i in indices]
    changed = [k for k, got, want in zip(keys, decoded.hashes, expected) if got != want]
    if changed:
        what = (f"{where} no longer generates the images {rs.run_dir} was trained on (the generator changed)"
                if source.kind == "builtin" else
                f"{len(changed)} of the {len(keys)} recorded images in {where} have changed since {rs.run_dir} was "
                f"trained (first: {changed[0]}, content hash differs)")
        raise UserError(what)
    return decoded


def _whole_set(source: Source) -> Source:
    """A generated set is drawn whole (its images share drawing chunks): keys cover all of it."""
    from .builtin import BUILTIN_SETS, parse_builtin_spec

    name, params = parse_builtin_spec(source.spec)
    n = params.get("n", BUILTIN_SETS[name].default_n)
    return Source("builtin", source.spec, source.labels, [str(i) for i in range(n)], np.zeros(n, np.int32),
                  seed=source.seed)


def matches_source(description: dict, spec) -> bool:
    """Whether `spec` (a --data value) names the recorded source itself."""
    if description["kind"] == "builtin":
        return str(spec) == description["spec"]
    return not is_builtin(spec) and Path(spec).resolve() == Path(description["path"])


def export_split(run_dir, split: str, out_dir) -> tuple[int, Path]:
    """Write a recorded split as class folders (folder data: the original files, byte for byte; generated
    data: PNG files of the pixels), all at once: into a temporary sibling folder, then renamed."""
    import shutil
    import tempfile

    from PIL import Image

    rs = read_run_splits(run_dir)
    if rs is None:
        raise UserError(f"{run_dir} has no recorded splits (it was trained before runs recorded them)")
    items = rs.items(split)
    if not len(items):
        raise UserError(f"the run's {split} split is empty")
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserError(f"{out_dir} already exists and is not an empty folder")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        decoded = None if items.source["kind"] == "folder" else load_split_images(rs, items)
        for label in sorted(set(int(v) for v in items.labels)):
            (tmp / rs.labels[label]).mkdir()
        for i, (key, label) in enumerate(zip(items.keys, items.labels)):
            folder = tmp / rs.labels[int(label)]
            if decoded is None:
                source = Path(items.source["path"]) / key
                try:
                    data = source.read_bytes()
                except OSError as e:
                    raise UserError(f"cannot read {source}: {e.strerror or e}") from None
                if hashlib.sha256(data).hexdigest() != items.hashes[i]:
                    raise UserError(f"{source} has changed since the run recorded it (content hash differs)")
                # The path below the class folder, flattened: nested folders of one class cannot collide.
                (folder / "__".join(Path(key).parts[1:])).write_bytes(data)
            else:
                pixels = decoded.x[i]
                Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(folder / f"{int(key):05d}.png")
        if out_dir.exists():
            out_dir.rmdir()
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return len(items), out_dir
