"""Visual Wake Words (`mobilenet-tiny dataset vww`): person / no_person class folders from a local COCO
download, the task MLPerf Tiny's visual wake words benchmark trains on.

The rule is Chowdhery et al., "Visual Wake Words Dataset" (arXiv:1906.05721), as its reference builder
in tensorflow/models (research/slim/datasets/build_visualwakewords_data_lib.py) applies it: an image is
`person` when at least one of its person annotations covers at least `min_area` (0.5 %) of the image,
else `no_person` — also when it shows only smaller people. Crowd annotations count like the others (the
reference builder does not skip them). The area is the annotation's box, width × height, as MLPerf Tiny's
data (Silicon Labs' builder, platform_ml_models/eembc/Person_detection) measures it; the reference
builder uses COCO's `area` field, the segmentation mask's area, which `area="segment"` reproduces.

Splits: COCO 2014 as the paper has it — validation is the 8,059-image "minival" subset of val2014 named
by tensorflow/models' research/object_detection/data/mscoco_minival_ids.txt (give that file as
`minival_ids`; without it all of val2014 is the validation split, and the output says so), training is
train2014 and the rest of val2014 (115 k images). COCO 2017 regrouped the same images: train2017 trains,
val2017 (5,000 images) validates.

The output is `OUT/train/{no_person,person}/` and `OUT/val/{no_person,person}/` (hard links to the COCO
files where the file system allows, else copies) and `OUT/vww.json` (the rule, the splits, every image's
class and its largest person's share of the image), for `train --data OUT/train --val OUT/val`. It is
built beside OUT and renamed into place: OUT appears whole or not at all.
"""
import contextlib
import io
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..fileio import replaced_dir
from .split import stratified_sample

LABELS = ("no_person", "person")  # sorted: the label ids `train` gives the class folders
MIN_AREA = 0.005
AREAS = ("box", "segment")
YEARS = ("2014", "2017")


@dataclass
class VwwImage:
    file: Path  # the COCO image file
    split: str  # train / val
    label: int  # index into LABELS
    person_share: float  # the largest person annotation's area / the image's area (0 without one)
    coco_id: int


@dataclass
class VwwResult:
    out_dir: Path
    year: str
    counts: dict = field(default_factory=dict)  # split → [no_person, person]
    val_source: str = ""
    linked: bool = True
    lines: list = field(default_factory=list)


def _annotation_files(coco_dir: Path, year: str | None) -> tuple[str, Path, Path]:
    found = [y for y in YEARS if (coco_dir / "annotations" / f"instances_train{y}.json").is_file()
             and (coco_dir / "annotations" / f"instances_val{y}.json").is_file()]
    if year is not None:
        if year not in YEARS:
            raise UserError(f"--year {year}: COCO's are {' and '.join(YEARS)}")
        if year not in found:
            raise UserError(f"{coco_dir}/annotations has no instances_train{year}.json and instances_val{year}.json")
        found = [year]
    if not found:
        raise UserError(f"{coco_dir} is not a COCO download: annotations/instances_train2017.json and "
                        "instances_val2017.json (or the 2014 pair) are missing")
    if len(found) > 1:
        raise UserError(f"{coco_dir} holds COCO 2014 and 2017 (the same images, split differently): choose one "
                        "with --year")
    y = found[0]
    return y, coco_dir / "annotations" / f"instances_train{y}.json", coco_dir / "annotations" / f"instances_val{y}.json"


def _image_dir(coco_dir: Path, name: str) -> Path:
    for candidate in (coco_dir / name, coco_dir / "images" / name):
        if candidate.is_dir():
            return candidate
    raise UserError(f"COCO's {name} image folder is missing from {coco_dir} (looked for {name}/ and images/{name}/)")


def _load_coco(path: Path):
    from pycocotools.coco import COCO

    with contextlib.redirect_stdout(io.StringIO()):  # it prints "loading annotations into memory…"
        try:
            return COCO(str(path))
        except (ValueError, KeyError, TypeError, AssertionError) as e:
            raise UserError(f"{path} is not a COCO annotation file ({type(e).__name__}: {e})") from None


def label_images(coco, image_dir: Path, split: str, *, min_area: float = MIN_AREA, area: str = "box",
                 only_ids=None, exclude_ids=frozenset()) -> list[VwwImage]:
    """Every image of `coco` (or those in `only_ids`, without `exclude_ids`) labelled by the rule."""
    person_ids = coco.getCatIds(catNms=["person"])
    if not person_ids:
        raise UserError("the annotations have no 'person' category")
    images = []
    for image_id in sorted(coco.imgs):
        if (only_ids is not None and image_id not in only_ids) or image_id in exclude_ids:
            continue
        info = coco.imgs[image_id]
        image_area = float(info["width"]) * float(info["height"])
        share = 0.0
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=[image_id], catIds=person_ids, iscrowd=None)):
            size = ann["bbox"][2] * ann["bbox"][3] if area == "box" else ann["area"]
            share = max(share, size / image_area)
        images.append(VwwImage(image_dir / info["file_name"], split, int(share >= min_area), share, image_id))
    return images


def read_ids(path) -> set[int]:
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise UserError(f"cannot read the minival ids {path}: {e.strerror or e}") from None
    try:
        return {int(line) for line in text.split() if line.strip()}
    except ValueError:
        raise UserError(f"{path}: expected one COCO image id per line (mscoco_minival_ids.txt)") from None


def build_vww(coco_dir, out_dir, *, min_area: float = MIN_AREA, area: str = "box", year: str | None = None,
              minival_ids=None, limit: int | None = None, seed: int = 0, copy: bool = False,
              log=None) -> VwwResult:
    """Write the person / no_person folders (see the module's docstring). Returns the counts."""
    log = log or (lambda line: None)
    coco_dir, out_dir = Path(coco_dir), Path(out_dir)
    if not 0.0 <= min_area < 1.0:
        raise UserError(f"--min-area {min_area!r} must be a fraction of the image in [0, 1)")
    if area not in AREAS:
        raise UserError(f"unknown --area {area!r}: choose one of {', '.join(AREAS)}")
    if limit is not None and limit < 2:
        raise UserError("--limit must be at least 2 (one image for each split)")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UserError(f"{out_dir} already exists and is not an empty folder")
    if not coco_dir.is_dir():
        raise UserError(f"COCO folder not found: {coco_dir}")
    year, train_json, val_json = _annotation_files(coco_dir, year)
    if minival_ids is not None and year != "2014":
        raise UserError("--minival-ids selects from COCO 2014's val2014: COCO 2017's val2017 is its validation split")
    train_dir, val_dir = _image_dir(coco_dir, f"train{year}"), _image_dir(coco_dir, f"val{year}")
    rule = dict(min_area=min_area, area=area)
    train_coco, val_coco = _load_coco(train_json), _load_coco(val_json)
    images = label_images(train_coco, train_dir, "train", **rule)
    if year == "2017":
        images += label_images(val_coco, val_dir, "val", **rule)
        val_source = "val2017"
    elif minival_ids is not None:
        minival = read_ids(minival_ids)
        unknown = minival - set(val_coco.imgs)
        if unknown:
            raise UserError(f"{len(unknown)} of the {len(minival)} minival ids are not val2014 images "
                            f"(first: {min(unknown)}): is {minival_ids} COCO 2014's minival list?")
        images += label_images(val_coco, val_dir, "train", exclude_ids=minival, **rule)
        images += label_images(val_coco, val_dir, "val", only_ids=minival, **rule)
        val_source = f"the {len(minival):,} minival images of val2014 ({Path(minival_ids).name})"
    else:
        images += label_images(val_coco, val_dir, "val", **rule)
        val_source = ("all of val2014 (no --minival-ids: the paper's validation split is the minival subset, "
                      "tensorflow/models research/object_detection/data/mscoco_minival_ids.txt)")
    total = len(images)
    if limit is not None and limit < total:
        images = _sample(images, limit, seed)
    missing = [im.file for im in images if not im.file.is_file()]
    if missing:
        raise UserError(f"{len(missing)} of the {len(images)} annotated images are missing (first: {missing[0]}): "
                        "the image folders must hold the annotated files")

    result = VwwResult(out_dir, year, val_source=val_source)
    with replaced_dir(out_dir) as staging:
        for split in ("train", "val"):
            for label in LABELS:
                (staging / split / label).mkdir(parents=True)
        linked = not copy
        for image in images:
            target = staging / image.split / LABELS[image.label] / image.file.name
            if linked:
                try:
                    os.link(image.file, target)
                    continue
                except OSError:
                    linked = False  # another file system (or no links): copy this one and the rest
            shutil.copyfile(image.file, target)
        result.linked = linked
        result.counts = {split: [sum(1 for im in images if im.split == split and im.label == k) for k in range(2)]
                         for split in ("train", "val")}
        record = {"format": 1, "coco": str(coco_dir.resolve()), "year": year, "rule": {
            "person": f"a person annotation's {'box (width × height)' if area == 'box' else 'segmentation area'} "
                      f"covers ≥ {min_area:g} of the image", "min_area": min_area, "area": area,
            "crowd_annotations": "counted"},
            "splits": {"train": f"train{year}" + (" and val2014 without minival" if minival_ids is not None else ""),
                       "val": val_source},
            "limit": limit, "seed": seed, "images_annotated": total, "counts": result.counts,
            "images": [{"split": im.split, "label": LABELS[im.label], "file": im.file.name, "coco_id": im.coco_id,
                        "person_share": round(im.person_share, 6)} for im in images]}
        (staging / "vww.json").write_text(json.dumps(record, indent=1))
    for split in ("train", "val"):
        no, yes = result.counts[split]
        result.lines.append(f"{split}: {no + yes:,} images — person {yes:,}, no_person {no:,}")
    result.lines.append(f"rule: person if a person's {'box' if area == 'box' else 'mask'} covers ≥ {min_area:.2%} of "
                        f"the image; validation: {val_source}")
    if limit is not None and limit < total:
        result.lines.append(f"--limit {limit}: a stratified, seeded sample (seed {seed}) of the {total:,} images")
    result.lines.append(f"{'linked' if result.linked else 'copied'} into {out_dir} (train with: mobilenet-tiny train "
                        f"--data {out_dir}/train --val {out_dir}/val --input 96x96x3)")
    for line in result.lines:
        log(line)
    return result


def _sample(images: list[VwwImage], limit: int, seed: int) -> list[VwwImage]:
    """`limit` images, each split and class keeping its share (a stratified, seeded sample)."""
    strata = np.array([2 * (im.split == "val") + im.label for im in images])
    picks = stratified_sample(strata, limit, seed)
    return [images[i] for i in picks]
