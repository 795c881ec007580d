"""`dataset vww` on a COCO-format set made here: person boxes just below, at and above 0.5 % of the image,
crowds, masks smaller than their boxes, other categories covering most of an image, images without
annotations; the 2017 split, the 2014 minival split, --min-area, --area segment, --limit, and an output
that appears whole or not at all."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mobilenet_tiny.data.catalog import open_source
from mobilenet_tiny.data.vww import build_vww
from mobilenet_tiny.errors import UserError

CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))
PERSON, DOG = 1, 18
W, H = 200, 100  # 20,000 px: 0.5 % is 100 px


def _image(i, spec):
    """spec: list of (category, box w, box h, mask area or None, iscrowd)."""
    return {"id": 1000 + i, "file_name": f"{1000 + i:012d}.jpg", "width": W, "height": H}, spec


# (person expected at 0.5 % by box, person expected by segment area at 0.5 %, annotations)
CASES = [
    (False, False, []),                                        # nothing annotated
    (False, False, [(DOG, 190, 95, None, 0)]),                 # a big dog, no person
    (False, False, [(PERSON, 11, 9, None, 0)]),                # 99 px: 0.495 %
    (True, True, [(PERSON, 10, 10, None, 0)]),                 # exactly 0.5 %
    (True, True, [(PERSON, 10, 11, None, 0)]),                 # 0.55 %
    (True, True, [(PERSON, 3, 3, None, 0), (PERSON, 40, 30, None, 0)]),  # one small, one large
    (False, False, [(PERSON, 5, 5, None, 0), (PERSON, 9, 11, None, 0), (DOG, 150, 90, None, 0)]),
    (True, True, [(PERSON, 60, 50, None, 1)]),                 # a crowd of people counts
    (True, False, [(PERSON, 20, 20, 80, 0)]),                  # box 2 %, mask 0.4 %
    (True, True, [(PERSON, 100, 100, 5000, 0)]),
]


def make_coco(root: Path, year: str, n_copies: int = 3) -> dict:
    """COCO-format annotations and JPEG files: CASES repeated n_copies times, split over train and val."""
    expected = {}
    (root / "annotations").mkdir(parents=True)
    rng = np.random.default_rng(0)
    split_images = {"train": [], "val": []}
    for copy in range(n_copies):
        for j, case in enumerate(CASES):
            i = copy * len(CASES) + j
            split = "val" if copy == 0 else "train"
            split_images[split].append((i, case))
    ann_id = 1
    for split, items in split_images.items():
        folder = root / f"{split}{year}"
        folder.mkdir()
        images, anns = [], []
        for i, (by_box, by_mask, spec) in items:
            info, _ = _image(i, spec)
            images.append(info)
            Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(folder / info["file_name"])
            for category, bw, bh, mask, crowd in spec:
                anns.append({"id": ann_id, "image_id": info["id"], "category_id": category, "iscrowd": crowd,
                             "bbox": [5.0, 5.0, float(bw), float(bh)],
                             "area": float(mask if mask is not None else bw * bh), "segmentation": []})
                ann_id += 1
            expected[info["file_name"]] = (split, by_box, by_mask, info["id"])
        (root / "annotations" / f"instances_{split}{year}.json").write_text(json.dumps({
            "images": images, "annotations": anns,
            "categories": [{"id": PERSON, "name": "person", "supercategory": "person"},
                           {"id": DOG, "name": "dog", "supercategory": "animal"}]}))
    return expected


def listing(out: Path) -> dict:
    return {p.name: (p.parent.parent.name, p.parent.name) for p in out.glob("*/*/*.jpg")}


def test_2017_every_image_in_its_class_and_split(tmp_path):
    expected = make_coco(tmp_path / "coco", "2017")
    out = tmp_path / "vww"
    result = build_vww(tmp_path / "coco", out)
    got = listing(out)
    assert got == {name: (split, "person" if by_box else "no_person")
                   for name, (split, by_box, _, _) in expected.items()}
    assert result.counts == {"train": [8, 12], "val": [4, 6]} and result.year == "2017" and result.linked
    assert (out / "val" / "person" / "000000001003.jpg").stat().st_ino == \
        (tmp_path / "coco" / "val2017" / "000000001003.jpg").stat().st_ino  # a hard link, not a copy
    record = json.loads((out / "vww.json").read_text())
    assert record["rule"]["min_area"] == 0.005 and len(record["images"]) == 30
    # The folders are a training set as they are: two classes, sorted no_person, person.
    assert open_source(str(out / "train")).labels == ["no_person", "person"]
    # The mask area instead (tensorflow/models' reference builder), and a higher threshold.
    segment = build_vww(tmp_path / "coco", tmp_path / "vww-seg", area="segment")
    assert listing(tmp_path / "vww-seg") == {name: (split, "person" if by_mask else "no_person")
                                             for name, (split, _, by_mask, _) in expected.items()}
    assert segment.counts["val"] == [5, 5]
    strict = build_vww(tmp_path / "coco", tmp_path / "vww-strict", min_area=0.02)
    assert strict.counts["val"] == [6, 4]  # 0.5–0.55 % boxes fall out; the 2 % box, the crowd, the large stay


def test_2014_minival_split_and_limit(tmp_path):
    expected = make_coco(tmp_path / "coco", "2014")
    val_ids = sorted(coco_id for split, _, _, coco_id in expected.values() if split == "val")
    minival = val_ids[:4]
    (tmp_path / "minival.txt").write_text("".join(f"{i}\n" for i in minival))
    build_vww(tmp_path / "coco", tmp_path / "vww", minival_ids=tmp_path / "minival.txt")
    got = listing(tmp_path / "vww")
    for name, (split, by_box, _, coco_id) in expected.items():
        want_split = "val" if coco_id in minival else "train"  # the rest of val2014 trains
        assert got[name] == (want_split, "person" if by_box else "no_person"), name
    # Without the list, val2014 is the validation split (and the output says what it used).
    whole = build_vww(tmp_path / "coco", tmp_path / "vww-whole")
    assert whole.counts["val"] == [4, 6] and "all of val2014" in whole.val_source
    limited = build_vww(tmp_path / "coco", tmp_path / "vww-10", limit=10, seed=1)
    # Each split and class keeps its share of the 30 (train 8 + 12, val 4 + 6 → 2.7, 4, 1.3, 2).
    assert sum(map(sum, limited.counts.values())) == 10 and sum(limited.counts["val"]) in (3, 4)
    assert limited.counts["train"][1] == 4 and limited.counts["val"][1] == 2
    build_vww(tmp_path / "coco", tmp_path / "vww-10b", limit=10, seed=1)
    assert listing(tmp_path / "vww-10b") == listing(tmp_path / "vww-10")


def test_bad_inputs_are_one_line_and_leave_nothing(tmp_path):
    expected = make_coco(tmp_path / "coco", "2017")
    missing = next(name for name, (split, *_rest) in expected.items() if split == "train")
    (tmp_path / "coco" / "train2017" / missing).unlink()
    out = tmp_path / "vww"
    for args, fragment in [
        (["--coco", str(tmp_path / "nowhere")], "COCO folder not found"),
        (["--coco", str(tmp_path)], "not a COCO download"),
        (["--coco", str(tmp_path / "coco")], "annotated images are missing"),
        (["--coco", str(tmp_path / "coco"), "--min-area", "1.5"], "--min-area"),
        (["--coco", str(tmp_path / "coco"), "--minival-ids", str(tmp_path / "x.txt")], "--minival-ids"),
    ]:
        r = subprocess.run([CLI, "dataset", "vww", *args, "-o", str(out)], capture_output=True, text=True, timeout=120)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], \
            (args, r.stderr)
        assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".vww")]
    (out / "x").mkdir(parents=True)
    with pytest.raises(UserError, match="not an empty folder"):
        build_vww(tmp_path / "coco", out)
