"""Which images a model is judged on — one function for `evaluate`, `convert`'s report, `serial-test` and
the demo, so they all score the same images and say which ones they were.

- A model inside a training run (the run directory, or a .tflite in it): the run's own recorded split,
  validation by default (`split` = train, val, test or all), from the run's data source, so no `--data` is
  needed. `data` still overrides: the same data in another place (every recorded file present with the
  same content) keeps the split; other data is scored whole, and the description says how many of its
  images the run trained on.
- A model on its own: `data` is needed; a folder is scored whole, a built-in set by the validation split of
  (val_split, seed) — what training with those arguments held out.
- `limit` takes a stratified, seeded sample (every class keeps its share), never the first N.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import UserError
from .catalog import decode, is_builtin, open_source
from .run_splits import (RunSplits, files_present, load_split_images, matches_source, read_run_splits)
from .split import SPLITS, stratified_sample, stratified_split

SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test", "all": "every"}
SPLIT_CHOICES = (*SPLITS, "all")


@dataclass
class Selection:
    labels: list[str]
    x: np.ndarray  # uint8 N×H×W×C
    y: np.ndarray  # int32
    keys: list[str]  # file paths relative to the data folder, or indices of a generated set
    split: str  # train / val / test / all
    source: str  # the folder or builtin spec the images came from
    description: str  # for people: "validation split of RUN: 500 images of DIR"
    run: Path | None = None

    @property
    def files(self) -> list[str]:
        return list(self.keys)


def find_run(path) -> Path | None:
    """The training run `path` is (a run directory) or lies in (a model file in one), else None."""
    if path is None:
        return None
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    return folder if (folder / "config.json").is_file() else None


def check_labels(data_labels, outputs: int, model_labels=None, *, model: str = "the model",
                 data: str = "the data") -> np.ndarray:
    """The one check that data and model agree on the classes (evaluate, serial-test, convert, predict):
    the same class names (in any order: folders sort by name, a generated set has its own order) and one
    per model output. Returns, for each data label id, the model's output index."""
    data_labels = list(data_labels)
    if model_labels is not None:
        model_labels = list(model_labels)
        if sorted(model_labels) != sorted(data_labels) or len(set(data_labels)) != len(data_labels):
            raise UserError(f"{data}'s classes ({_names(data_labels)}) are not {model}'s labels "
                            f"({_names(model_labels)})")
        mapping = np.array([model_labels.index(label) for label in data_labels], dtype=np.int32)
    else:
        mapping = np.arange(len(data_labels), dtype=np.int32)
    if len(data_labels) != outputs:
        raise UserError(f"{model} has {outputs} outputs but {data} has {len(data_labels)} classes "
                        f"({_names(data_labels)})")
    return mapping


def align_to_model(selection: "Selection", outputs: int, model_labels=None, *, model: str = "the model") -> "Selection":
    """`selection` with its label ids turned into the model's output indices (check_labels first)."""
    mapping = check_labels(selection.labels, outputs, model_labels, model=model, data=selection.source)
    if model_labels is None or list(model_labels) == list(selection.labels):
        return selection
    selection.y = mapping[selection.y]
    selection.labels = list(model_labels)
    return selection


def _names(labels, most: int = 6) -> str:
    labels = list(labels)
    shown = ", ".join(map(str, labels[:most]))
    return shown + (f", … ({len(labels)} in all)" if len(labels) > most else "")


def select_images(input_shape, *, run=None, data=None, split: str | None = None, limit: int | None = None,
                  seed: int | None = None, val_split: float = 0.2, progress=None) -> Selection:
    """The images to judge a model of `input_shape` on (see the module's docstring)."""
    if split is not None and split not in SPLIT_CHOICES:
        raise UserError(f"unknown split {split!r}: choose one of {', '.join(SPLIT_CHOICES)}")
    if limit is not None and limit < 1:
        raise UserError("--limit must be at least 1")
    input_shape = tuple(int(v) for v in input_shape)
    run = Path(run) if run is not None else None
    rs = read_run_splits(run) if run is not None else None
    if rs is not None:
        if tuple(rs.input_shape) != input_shape:
            raise UserError(f"the model's input is {'x'.join(map(str, input_shape))} but {run} was trained at "
                            f"{'x'.join(map(str, rs.input_shape))}")
        return _from_run(rs, data, split, limit, rs.seed if seed is None else seed, progress)
    if run is not None:  # a run from before splits were recorded: redo its seeded split
        from ..train import load_config

        config = load_config(run)
        data = data or config.data
        seed = config.seed if seed is None else seed
        val_split = config.val_split
    if data is None:
        raise UserError("--data is needed: the model is not part of a training run")
    return _from_data(str(data), input_shape, split, limit, 0 if seed is None else seed, val_split, progress,
                      run_labels=None)


def _from_run(rs: RunSplits, data, split, limit, seed, progress) -> Selection:
    recorded = rs.source()
    root = None
    if data is not None and not matches_source(recorded, data):
        wanted = rs.items(split or "val")
        if not is_builtin(data) and files_present(wanted, data):
            root = data  # the run's data, moved: the split still holds (hashes are checked)
        else:
            if split not in (None, "all"):
                raise UserError(f"--split {split} names the run's own data ({_where(recorded)}); {data} is other "
                                "data, which is scored whole: leave out --split")
            selection = _from_data(str(data), rs.input_shape, "all", limit, seed, 0.0, progress, run_labels=rs.labels)
            seen = set(rs.splits["train"].hashes)
            from .catalog import pixels_hash

            overlap = _overlap(selection, seen, pixels_hash)
            selection.description += (f" (not the run's data; {overlap} of them are images the run trained on)"
                                      if overlap else " (not the run's data; none of them were trained on)")
            selection.run = rs.run_dir
            return selection
    split = split or "val"
    names = SPLITS if split == "all" else (split,)
    parts = [(name, rs.items(name)) for name in names]
    if not sum(len(items) for _, items in parts):
        hint = {"val": "it was trained with --val-split 0", "test": "train with --test-split F to have one"}
        raise UserError(f"the run has no {SPLIT_NAMES[split]} split ({hint.get(split, 'no images')})")
    xs, ys, keys = [], [], []
    labels_all = np.concatenate([items.labels for _, items in parts])
    chosen = stratified_sample(labels_all, limit, seed)
    offset = 0
    for _, items in parts:
        mine = chosen[(chosen >= offset) & (chosen < offset + len(items))] - offset
        offset += len(items)
        if len(mine):
            decoded = load_split_images(rs, items, mine, root=root, progress=progress)
            xs.append(decoded.x)
            ys.append(decoded.y)
            keys += decoded.keys
    x, y = np.concatenate(xs), np.concatenate(ys).astype(np.int32)
    where = root or _where(recorded)
    what = f"{SPLIT_NAMES[split]} split" if split != "all" else "all splits"
    sampled = f"a stratified sample of {len(y)} of {len(labels_all)}" if len(y) < len(labels_all) else f"{len(y)}"
    return Selection(rs.labels, x, y, keys, split, str(where),
                     f"the {what} of {rs.run_dir}: {sampled} images of {where}", rs.run_dir)


def _where(description: dict) -> str:
    return description["path"] if description["kind"] == "folder" else description["spec"]


def _overlap(selection: Selection, seen: set, pixels_hash) -> int:
    if is_builtin(selection.source):
        return sum(pixels_hash(im) in seen for im in selection.x)
    import hashlib

    root = Path(selection.source)
    return sum(hashlib.sha256((root / key).read_bytes()).hexdigest() in seen for key in selection.keys)


def _from_data(data: str, input_shape, split, limit, seed, val_split, progress, run_labels) -> Selection:
    """Images of `data` itself: a folder whole, a built-in set by its (val_split, seed) validation split."""
    source = open_source(data, seed=seed)
    if not is_builtin(data):
        if split not in (None, "all"):
            raise UserError(f"--split {split} needs a training run's recorded splits; {data} is a folder, "
                            "scored whole")
        picks = stratified_sample(source.y, limit, seed)
        decoded = decode(source, input_shape, indices=picks, progress=progress)
        n = len(source.y)
        sampled = f"a stratified sample of {len(picks)} of the {n}" if len(picks) < n else f"all {n}"
        return Selection(source.labels, decoded.x, decoded.y, decoded.keys, "all", data,
                         f"{sampled} images of {data}")
    decoded = decode(source, input_shape)
    if split is None:
        split = "val" if val_split > 0 else "all"
    if split == "all":
        idx = np.arange(len(decoded.y))
    elif split in ("train", "val"):
        train, val = stratified_split(decoded.y, val_split, seed)
        idx = train if split == "train" else val
    else:
        raise UserError(f"--split {split} needs a training run that recorded one")
    picks = idx[stratified_sample(decoded.y[idx], limit, seed)]
    if split == "all":
        what = f"all {len(picks)} images of {data}" if len(picks) == len(idx) else \
            f"a stratified sample of {len(picks)} of the {len(idx)} images of {data}"
    else:
        what = (f"the {SPLIT_NAMES[split]} split (val_split {val_split:g}, seed {seed}) of {data}: {len(picks)} "
                "images" + (f" (a stratified sample of the split's {len(idx)})" if len(picks) < len(idx) else ""))
    return Selection(source.labels, decoded.x[picks], decoded.y[picks], [decoded.keys[i] for i in picks], split,
                     data, what)
