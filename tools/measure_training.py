"""Measure what a training configuration gives, the way a user would meet it: train (CLI) → convert (CLI)
→ firmware for qemu_m4 → serial test; float / QAT / int8 accuracy on the validation split and on a
held-out test set, device accuracy (and bit-exactness) on a stratified sample of 100 of each, epochs to best,
wall times. A benchmark, not a test: one run takes minutes to an hour.

    nice -n 10 .venv/bin/python tools/measure_training.py --set photos --name after -- [train options]
    nice -n 10 .venv/bin/python tools/measure_training.py --set shapes --name before --code /tmp/old-tree

Sets:
  photos  the photo-like set (`builtin:photos`) written as a folder of JPEG files: 2,500 images, 10
          classes (seed 0) for training with its validation split, and 500 more (seed 1) as the test set.
  shapes  builtin:shapes (6,000 images, the demo's data) and 1,200 more drawn from seed 1 as the test set.

`--code DIR` runs another checkout of the project (e.g. the code before a change) with this venv; the
script only drives the CLI and reads the run directory, so it works for old and new code alike. Results go
to `measure/<set>-<name>/result.json` under the cache dir, with the run and its logs. Every command runs
under the same `nice` as this script; run one measurement at a time on a shared machine.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("MOBILENET_TINY_MEASURE_DIR", Path.home() / ".cache" / "mobilenet-tiny" / "measure"))
PHOTO_TRAIN, PHOTO_TEST = 2500, 500
SHAPES_TEST = 1200
DEVICE_IMAGES = 100  # per set, a stratified sample: the device is bit-exact with host TFLM, checked on these


def _env(code: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _cli(code: Path, args: list[str], log: Path) -> float:
    """Run one CLI command from `code`; its output goes to `log`; returns the wall time."""
    start = time.time()
    with open(log, "a") as out:
        out.write(f"$ mobilenet-tiny {' '.join(args)}\n")
        out.flush()
        proc = subprocess.run([sys.executable, "-m", "mobilenet_tiny.cli", *args], cwd=code, env=_env(code),
                              stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode:
        sys.exit(f"`mobilenet-tiny {' '.join(args)}` failed (rc {proc.returncode}): see {log}")
    return time.time() - start


def photo_folders() -> tuple[Path, Path]:
    from mobilenet_tiny.data.photos import write_photo_folder

    folders = []
    for name, n, seed in (("train", PHOTO_TRAIN, 0), ("test", PHOTO_TEST, 1)):
        path = CACHE / f"photos-{name}-{n}-seed{seed}"
        if not path.is_dir():
            tmp = path.with_name(path.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            start = time.time()
            write_photo_folder(tmp, n, seed)
            tmp.rename(path)
            print(f"wrote {n} photo-like JPEGs to {path} in {time.time() - start:.0f} s", flush=True)
        folders.append(path)
    return folders[0], folders[1]


_MEASURE_SNIPPET = r"""
import json, sys
import numpy as np
from pathlib import Path
run, test_spec, test_seed, out = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
config = json.loads((run / "config.json").read_text())
shape = tuple(config["input_shape"])
from mobilenet_tiny.data import load_data
from mobilenet_tiny.interpreters import TflmInterpreter, quantize_pixels
from mobilenet_tiny.tf_env import keras, tfmot
if (run / "splits.json").exists():  # new code: the run's own validation split
    from mobilenet_tiny.data.selection import select_images
    val = select_images(shape, run=run, split="val")
    val_x, val_y = val.x, val.y
else:  # old code: the same seeded split training used
    d = load_data(config["data"], shape, val_split=config["val_split"], seed=config["seed"])
    val_x, val_y = d.val_x, d.val_y
t = load_data(test_spec, shape, val_split=0.0, seed=test_seed)
test_x, test_y = t.train_x, t.train_y
result = {"val_images": int(len(val_y)), "test_images": int(len(test_y))}
for name in ("float", "qat"):
    path = run / f"{name}_model.h5"
    if path.exists():
        with tfmot().quantization.keras.quantize_scope():
            model = keras.models.load_model(str(path), compile=False)
        for split, x, y in (("val", val_x, val_y), ("test", test_x, test_y)):
            p = model.predict(x.astype(np.float32) / 255.0, batch_size=64, verbose=0).argmax(1)
            result[f"{name}_{split}"] = float((p == y).mean())
interp = TflmInterpreter((run / "model.tflite").read_bytes())
for split, x, y in (("val", val_x, val_y), ("test", test_x, test_y)):
    p = interp.run_batch(quantize_pixels(x, interp.input_details)).argmax(1)
    result[f"int8_{split}"] = float((p == y).mean())
# Image folders for the device (serial-test on a standalone model sends a folder's every image): a
# stratified sample of at most DEVICE_IMAGES per set, the same for old and new code.
from PIL import Image
device_images = int(sys.argv[5])
for split, x, y in (("val", val_x, val_y), ("test", test_x, test_y)):
    rng = np.random.default_rng(0)
    keep = np.sort(np.concatenate([rng.permutation(np.flatnonzero(y == k))[:round(device_images * (y == k).sum() / len(y))]
                                   for k in np.unique(y)]))
    result[f"device_{split}_images"] = int(len(keep))
    p = interp.run_batch(quantize_pixels(x[keep], interp.input_details)).argmax(1)
    result[f"int8_{split}_device_sample"] = float((p == y[keep]).mean())  # what a bit-exact device scores
    for i in keep:
        im, label = x[i], y[i]
        # Folders sort in label order (serial-test maps a folder's sorted class names to the outputs).
        d = out / split / f"{label:02d}_{config['labels'][label]}"
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(im[..., 0] if im.shape[-1] == 1 else im).save(d / f"{i:05d}.png")
print(json.dumps(result))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["photos", "shapes"], required=True)
    parser.add_argument("--name", required=True, help="label of this configuration (a folder name)")
    parser.add_argument("--code", default=str(ROOT), help="project checkout to run [this one]")
    parser.add_argument("--no-device", action="store_true", help="skip the firmware build and serial test")
    parser.add_argument("train_args", nargs="*", help="extra `train` options (after --)")
    args = parser.parse_args()
    code = Path(args.code).resolve()

    out = CACHE / f"{args.set}-{args.name}"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    log = out / "log.txt"
    if args.set == "photos":
        train_dir, test_dir = photo_folders()
        data, test_spec, test_seed = str(train_dir), str(test_dir), 0
    else:
        data, test_spec, test_seed = "builtin:shapes", f"builtin:shapes?n={SHAPES_TEST}", 1
    run = out / "run"
    result = {"set": args.set, "name": args.name, "code": str(code), "train_args": args.train_args,
              "cpu": os.cpu_count(), "load_at_start": os.getloadavg()}
    result["train_seconds"] = _cli(code, ["train", "--data", data, "--out", str(run), *args.train_args], log)
    result["convert_seconds"] = _cli(code, ["convert", str(run)], log)
    history = json.loads((run / "history.json").read_text())
    config = json.loads((run / "config.json").read_text())
    result["config"] = config
    for phase in ("float", "qat"):
        epochs = [h for h in history if h["phase"] == phase]
        if epochs and "val_accuracy" in epochs[0]:
            best = max(epochs, key=lambda h: h["val_accuracy"])
            result[f"{phase}_epochs_run"] = len(epochs)
            result[f"{phase}_best_epoch"] = best["epoch"]
            result[f"{phase}_val_curve"] = [round(h["val_accuracy"], 4) for h in epochs]

    folders = out / "images"
    proc = subprocess.run([sys.executable, "-c", _MEASURE_SNIPPET, str(run), test_spec, str(test_seed),
                           str(folders), str(DEVICE_IMAGES)], cwd=code, env=_env(code), capture_output=True, text=True)
    if proc.returncode:
        sys.exit(f"measuring failed: {proc.stderr[-2000:]}")
    result.update(json.loads(proc.stdout.strip().splitlines()[-1]))

    if not args.no_device:
        standalone = out / "device-model"
        standalone.mkdir()
        shutil.copy(run / "model.tflite", standalone / "model.tflite")
        fw = out / "firmware"
        result["firmware_seconds"] = _cli(code, ["firmware", "build", "--board", "qemu_m4", "--model",
                                                 str(standalone / "model.tflite"), "--out", str(fw)], log)
        port = str(20000 + os.getpid() % 20000)
        _cli(code, ["flash", "--board", "qemu_m4", "--project", str(fw), "--background", "--port", port,
                    "--time-limit", "3600"], log)
        try:
            for split in ("val", "test"):
                before = log.read_text()
                seconds = _cli(code, ["serial-test", "--port", f"socket://127.0.0.1:{port}", "--model",
                                      str(standalone / "model.tflite"), "--data", str(folders / split)], log)
                text = log.read_text()[len(before):]
                line = next(ln for ln in text.splitlines() if ln.startswith("accuracy: device"))
                result[f"device_{split}"] = float(line.split()[2].rstrip(","))
                exact = next(ln for ln in text.splitlines() if ln.startswith("bit-exact with host TFLM"))
                result[f"device_{split}_bit_exact"] = exact.split(": ")[1]
                result[f"serial_{split}_seconds"] = seconds
        finally:
            subprocess.run([sys.executable, "-m", "mobilenet_tiny.cli", "flash", "--board", "qemu_m4", "--stop"],
                           cwd=code, env=_env(code), capture_output=True)
    result["load_at_end"] = os.getloadavg()
    (out / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "config"}, indent=2))


if __name__ == "__main__":
    main()
