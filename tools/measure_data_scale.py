"""Measure the input pipelines and training's memory on a large generated image folder (a benchmark for
README's "Data at scale", not a test).

    nice -n 10 .venv/bin/python tools/measure_data_scale.py [--images 20000] [--skip-rss]

1. Writes `--images` photo-like JPEG files (`builtin:photos` as a class folder; cached in
   ~/.cache/mobilenet-tiny/measure, or $MOBILENET_TINY_MEASURE_DIR).
2. Input pipeline alone (`train --benchmark-input`, 96×96×3, batch 32, light augmentation): images held in
   memory, streamed from the files (decoded every epoch), streamed from a --cache (a first run fills it);
   each `--repeat` times, the median shown (the machine is shared: single runs vary by up to 2×).
3. Peak RSS (/usr/bin/time's maximum resident set size) of `train` for 1 float epoch, α 0.1, 96×96×3, on
   the whole folder: `--input-pipeline memory` (what every run did before streaming existed) against
   `--input-pipeline stream` (what `auto` picks at this size), and again streaming from the cache.
Each CLI run is a fresh process, so the numbers include TensorFlow's own footprint.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = str(Path(sys.executable).with_name("mobilenet-tiny"))
CACHE = Path(os.environ.get("MOBILENET_TINY_MEASURE_DIR", Path.home() / ".cache" / "mobilenet-tiny" / "measure"))
SHAPE = "96x96x3"


def photo_folder(n: int) -> Path:
    from mobilenet_tiny.data.photos import write_photo_folder

    path = CACHE / f"photos-scale-{n}-seed0"
    if not path.is_dir():
        tmp = path.with_name(path.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        start = time.time()
        write_photo_folder(tmp, n, 0)
        tmp.rename(path)
        print(f"wrote {n:,} photo-like JPEGs to {path} in {time.time() - start:.0f} s", flush=True)
    return path


def run(args: list[str], log: Path) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak RSS in MiB) of `mobilenet-tiny ARGS` under /usr/bin/time."""
    start = time.time()
    with open(log, "w") as err:
        proc = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb %M", CLI, *args], stdout=subprocess.PIPE,
                              stderr=err, text=True)
    wall = time.time() - start
    text = log.read_text()
    if proc.returncode:
        sys.exit(f"`mobilenet-tiny {' '.join(args)}` failed (rc {proc.returncode}):\n{text[-2000:]}")
    rss = int(re.findall(r"maxrss_kb (\d+)", text)[-1]) / 1024
    return proc.stdout, wall, rss


def input_line(log: Path) -> str:
    return next((line.strip() for line in log.read_text().splitlines() if line.strip().startswith("input:")), "")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--skip-rss", action="store_true", help="Only the input pipeline's images/s.")
    parser.add_argument("--skip-rate", action="store_true", help="Only the peak RSS of training.")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each input pipeline (the median is shown).")
    args = parser.parse_args()
    folder = photo_folder(args.images)
    work = Path(tempfile.mkdtemp(prefix="measure-data-scale-"))
    cache = work / "cache"
    print(f"{args.images:,} JPEG files in {folder}; {os.cpu_count()} cores; load average "
          f"{os.getloadavg()[0]:.1f}; logs in {work}", flush=True)
    data = ["--data", str(folder), "--input", SHAPE, "--batch-size", "32", "--seed", "0"]
    if not args.skip_rate:
        print(f"\ninput pipeline alone (train --benchmark-input, {SHAPE}, batch 32, augment light):")
        cases = [("in memory", ["--input-pipeline", "memory"]),
                 ("streamed, decoding the files", ["--input-pipeline", "stream"]),
                 ("(filling the cache)", ["--input-pipeline", "stream", "--cache", str(cache)]),
                 ("streamed from the cache", ["--input-pipeline", "stream", "--cache", str(cache)])]
        for i, (name, options) in enumerate(cases):
            rates = []
            for r in range(1 if name.startswith("(") else args.repeat):
                out, wall, rss = run(["train", *data, *options, "--benchmark-input"], work / f"rate-{i}-{r}.log")
                rates.append(int(re.search(r"input pipeline: ([\d,]+) images/s", out).group(1).replace(",", "")))
            print(f"  {name:30s} {statistics.median(rates):>7,.0f} images/s  (runs: {', '.join(f'{x:,}' for x in rates)}; "
                  f"last process {wall:.0f} s wall, peak RSS {rss:,.0f} MiB; load {os.getloadavg()[0]:.1f})", flush=True)
    if not args.skip_rss:
        print(f"\ntrain, 1 float epoch, v1 α0.1, {SHAPE}, val split 0.1 (peak RSS of the process):")
        shutil.rmtree(cache, ignore_errors=True)
        cases = [("in memory (before)", ["--input-pipeline", "memory"]),
                 ("streamed from the files (after)", ["--input-pipeline", "stream"]),
                 ("streamed, filling a cache", ["--input-pipeline", "stream", "--cache", str(cache)]),
                 ("streamed from the cache", ["--input-pipeline", "stream", "--cache", str(cache)])]
        for i, (name, options) in enumerate(cases):
            log = work / f"rss-{i}.log"
            _, wall, rss = run(["train", *data, *options, "--alpha", "0.1", "--epochs", "1", "--qat-epochs", "0",
                                "--val-split", "0.1", "--out", str(work / f"run-{i}")], log)
            print(f"  {name:32s} peak RSS {rss:>6,.0f} MiB  ({wall:.0f} s wall; {input_line(log)})", flush=True)
    shutil.rmtree(work / "cache", ignore_errors=True)


if __name__ == "__main__":
    main()
