"""Splits belong to the run: recorded with content hashes, and evaluate / convert's report / export use
exactly the run's validation files (checked by file list); --limit is a stratified sample; the test split
is scored once, at the end; a run whose QAT phase is unfinished is not converted silently."""
import hashlib
import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pipeline_fixtures import CORRUPT_FILE

pytestmark = pytest.mark.slow
CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))


def cli(*args, timeout=300, **kwargs):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, **kwargs)


def recorded(run) -> dict:
    return json.loads((run / "splits.json").read_text())


def files_of(run, split) -> list[str]:
    return [im["file"] if "file" in im else im["index"] for im in recorded(run)["splits"][split]["images"]]


def one_line_error(result, *fragments):
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_splits_are_recorded_with_content_hashes(photo_run, photo_folder):
    rec = recorded(photo_run)
    on_disk = sorted(p.relative_to(photo_folder).as_posix() for p in photo_folder.rglob("*.jpg"))
    listed = [f for split in ("train", "val", "test") for f in files_of(photo_run, split)]
    assert len(set(listed)) == len(listed)  # no image in two splits
    assert sorted(listed + [s["file"] for s in rec["skipped"]]) == on_disk
    assert [s["file"] for s in rec["skipped"]] == [CORRUPT_FILE]
    for split in ("train", "val", "test"):
        assert rec["splits"][split]["source"] == {"kind": "folder", "spec": str(photo_folder),
                                                  "path": str(photo_folder.resolve())}
        for image in rec["splits"][split]["images"]:
            assert image["label"] == image["file"].split("/")[0]
            assert image["sha256"] == hashlib.sha256((photo_folder / image["file"]).read_bytes()).hexdigest()
    # Stratified: 16 readable images a class → 3 validation, 3 test each.
    for split in ("val", "test"):
        assert sorted(Counter(f.split("/")[0] for f in files_of(photo_run, split)).values()) == [3, 3, 3, 3]
    labels = (photo_run / "labels.txt").read_text().splitlines()
    assert labels == rec["labels"] == json.loads((photo_run / "config.json").read_text())["labels"]
    # Colour data gets an RGB model unless --input says otherwise.
    assert json.loads((photo_run / "config.json").read_text())["input_shape"] == [32, 32, 3]
    log = (photo_run / "train.log").read_text()
    assert "the data is colour" in log and f"skipped 1 unreadable file(s): {CORRUPT_FILE}" in log
    assert "resized from" in log  # the files are of many sizes


def test_evaluate_scores_exactly_the_validation_files(photo_run):
    for target in (photo_run, photo_run / "model.tflite"):  # the run, or the model inside it
        result = cli("evaluate", target, "--json")
        assert result.returncode == 0, result.stderr
        scored = json.loads(result.stdout)
        assert scored["split"] == "val" and sorted(scored["files"]) == sorted(files_of(photo_run, "val"))
    report = json.loads((photo_run / "report.json").read_text())
    assert scored["accuracy"] == report["accuracy"]["int8_tflm"]
    for split in ("test", "train"):
        scored = json.loads(cli("evaluate", photo_run, "--split", split, "--json").stdout)
        assert sorted(scored["files"]) == sorted(files_of(photo_run, split))
    every = json.loads(cli("evaluate", photo_run, "--split", "all", "--json").stdout)
    assert every["images"] == sum(len(files_of(photo_run, s)) for s in ("train", "val", "test"))


def test_limit_takes_a_stratified_seeded_sample(photo_run):
    from mobilenet_tiny.data.selection import select_images

    train = files_of(photo_run, "train")
    first = select_images((32, 32, 3), run=photo_run, split="train", limit=10)
    again = select_images((32, 32, 3), run=photo_run, split="train", limit=10)
    other = select_images((32, 32, 3), run=photo_run, split="train", limit=10, seed=9)
    assert first.keys == again.keys and set(first.keys) <= set(train) and len(first.keys) == 10
    per_class = Counter(k.split("/")[0] for k in first.keys)
    assert sorted(per_class.values()) == [2, 2, 3, 3]  # 40 training images, 10 a class: 2.5 each
    assert first.keys != sorted(train)[:10] and other.keys != first.keys
    assert "a stratified sample of 10 of 40" in first.description


def test_convert_report_judges_the_validation_split_and_the_test_split_apart(photo_run):
    report = json.loads((photo_run / "report.json").read_text())
    val, test = files_of(photo_run, "val"), files_of(photo_run, "test")
    assert report["split"] == "val" and report["validation_images"] == len(val)
    assert "validation split of" in report["images"] and f"{len(val)} images" in report["images"]
    assert {m["file"] for m in report["misclassified_tflm"]} <= set(val)
    wrong = sum(r["support"] for r in report["per_class_tflm"]) - np.trace(report["confusion_matrix_tflm"])
    assert len(report["misclassified_tflm"]) == wrong
    assert [r["label"] for r in report["per_class_tflm"]] == report["labels"]
    assert report["test"]["count"] == len(test) and set(report["test"]["accuracy"]) >= {"int8_tflm", "keras_qat"}
    assert report["model_config"]["input_shape"] == [32, 32, 3]
    assert report["compiled_runtime"]["macs"] > 0 and report["compiled_runtime"]["constant_bytes"] > 0
    assert (photo_run / "misclassified.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (photo_run / "report.md").read_text()
    assert "## Per class" in markdown and "Test split, scored apart" in markdown and "MACs" in markdown


def test_test_split_is_scored_once_at_the_end(photo_run):
    log = (photo_run / "train.log").read_text().splitlines()
    scored = [i for i, line in enumerate(log) if line.startswith("test split (")]
    last_epoch = max(i for i, line in enumerate(log) if " epoch " in line and line.startswith(("float", "qat")))
    assert len(scored) == 1 and scored[0] > last_epoch
    test = json.loads((photo_run / "test.json").read_text())
    assert test["images"] == len(files_of(photo_run, "test")) and set(test) >= {"float_accuracy", "qat_accuracy"}
    history = json.loads((photo_run / "history.json").read_text())
    assert not any("test" in key for entry in history for key in entry)  # never looked at while training


def test_split_export_writes_the_files_as_class_folders(photo_run, photo_folder, tmp_path):
    result = cli("split", "export", photo_run, "--split", "val", "-o", tmp_path / "val")
    assert result.returncode == 0, result.stderr
    exported = sorted(p.relative_to(tmp_path / "val").as_posix() for p in (tmp_path / "val").rglob("*.jpg"))
    assert exported == sorted(files_of(photo_run, "val"))
    for name in exported:
        assert (tmp_path / "val" / name).read_bytes() == (photo_folder / name).read_bytes()
    again = cli("split", "export", photo_run, "--split", "val", "-o", tmp_path / "val")
    one_line_error(again, "already exists")
    # Other data is scored whole, and the output says how much of it the run trained on.
    cli("split", "export", photo_run, "--split", "train", "-o", tmp_path / "train")
    scored = json.loads(cli("evaluate", photo_run, "--data", tmp_path / "train", "--json").stdout)
    assert scored["images"] == len(files_of(photo_run, "train"))
    assert f"{scored['images']} of them are images the run trained on" in scored["description"]
    moved = cli("evaluate", photo_run, "--data", tmp_path / "val", "--split", "test")
    one_line_error(moved, "--split test names the run's own data")


def test_data_whose_classes_differ_from_the_model_is_refused(photo_run, tmp_path):
    from PIL import Image

    for name in ("cat", "dog", "emu", "gnu"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (40, 40), (9, 9, 9)).save(tmp_path / name / "a.png")
    for args in (["evaluate", photo_run], ["serial-test", "--port", "socket://127.0.0.1:9", "--model", photo_run]):
        one_line_error(cli(*args, "--data", tmp_path), "are not", "labels")


def test_an_unfinished_qat_phase_is_not_converted_silently(photo_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(photo_run, run)
    # What a run stopped during its only QAT epoch leaves: float finished, no QAT checkpoint or model.
    for f in (run / "checkpoints").glob("qat-*"):
        f.unlink()
    (run / "qat_model.h5").unlink()
    one_line_error(cli("convert", run, "--out", tmp_path / "out"), "QAT phase is incomplete (0 of 1 epochs)",
                   "--resume", "--allow-float")
    assert not (tmp_path / "out").exists()
    forced = cli("convert", run, "--out", tmp_path / "out", "--allow-float", "--no-report")
    assert forced.returncode == 0, forced.stderr
    assert "float (post-training quantization)" in forced.stderr


def test_unreadable_image_without_the_flag_names_the_file_and_the_flag(tmp_path):
    from PIL import Image

    for name in ("a", "b"):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(3):
            Image.new("L", (40, 40), 60 * i).save(tmp_path / "data" / name / f"{i}.png")
    (tmp_path / "data" / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    result = cli("train", "--data", tmp_path / "data", "--input", "32x32", "--out", tmp_path / "run")
    one_line_error(result, str(tmp_path / "data" / "b" / "broken.png"), "--skip-bad-images")
    assert not (tmp_path / "run").exists()


def test_val_split_zero_trains_on_everything_without_early_stopping(tmp_path):
    from mobilenet_tiny.train import TrainConfig, train

    run = tmp_path / "run"
    result = train(TrainConfig(data="builtin:textures?n=24", input_shape=(32, 32, None), val_split=0.0, epochs=2,
                               qat_epochs=0, batch_size=8, patience=1), run, log=lambda line: None)
    assert result.float_val_accuracy is None and result.best_epochs["float"] == 2  # the last epoch kept
    history = json.loads((run / "history.json").read_text())
    assert len(history) == 2 and not any("val_accuracy" in h for h in history)
    assert len(files_of(run, "train")) == 24 and files_of(run, "val") == []
    one_line_error(cli("evaluate", run), "no .tflite model")
    converted = cli("convert", run)
    assert converted.returncode == 0 and "no images to report on" in converted.stderr, converted.stderr
    one_line_error(cli("evaluate", run), "the run has no validation split (it was trained with --val-split 0)")
