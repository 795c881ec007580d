"""Measure the QEMU serial link: bytes per second into the device, images per second end to end, and the
host CPU an idle board uses. A benchmark, not a test (wall-clock numbers depend on the machine's load).

    .venv/bin/python tools/bench_link.py --model MODEL.tflite [--boards qemu_m4,qemu_rv32] [--images 10]

For each board it builds the firmware with the model (build/firmware/BOARD), boots QEMU as the CLI does
and, over the socket:
- receive: infer frames one byte short of an image, which the device decodes whole and rejects (error 6):
  the link alone, no inference;
- images/s: infer requests with random images, request to reply (link + inference + reply);
- idle: QEMU's CPU time (/proc/PID/stat, all threads) over --idle seconds after the last reply.
Each figure is the best of --rounds boots (the machine is shared; the best is the least disturbed).
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from mobilenet_tiny.device import protocol  # noqa: E402
from mobilenet_tiny.device.board import get_board  # noqa: E402
from mobilenet_tiny.device.emulator import ICOUNT, Emulator  # noqa: E402
from mobilenet_tiny.device.firmware_build import build_firmware  # noqa: E402
from mobilenet_tiny.device.link import DeviceError, DeviceLink  # noqa: E402


def measure(board_env: str, elf: Path, images: int, idle_seconds: float) -> dict:
    board = get_board(board_env)
    rng = np.random.default_rng(0)
    with Emulator(board, elf, time_limit=900) as qemu, DeviceLink(qemu.url, timeout=120) as link:
        link.sync()
        hello = link.hello()
        short = bytes(rng.integers(0, 256, hello.input_bytes - 1, dtype=np.uint8))
        pictures = rng.integers(0, 256, (images, *hello.input_shape), dtype=np.uint8)
        link.infer(pictures[0])  # warm up QEMU's translation cache
        start = time.monotonic()
        for _ in range(images):
            try:
                link.request(protocol.INFER, short)
            except DeviceError as e:
                if e.reply.code != 6:
                    raise
        receive_s = time.monotonic() - start
        start = time.monotonic()
        ticks = [link.infer(p).latency_ticks for p in pictures]
        infer_s = time.monotonic() - start
        time.sleep(0.5)
        cpu = qemu.cpu_seconds()
        time.sleep(idle_seconds)
        idle = (qemu.cpu_seconds() - cpu) / idle_seconds
    wire = len(protocol.encode_frame(protocol.INFER, 1, short))
    return {"receive_kb_s": images * wire / receive_s / 1e3, "images_s": images / infer_s,
            "image_kb": hello.input_bytes / 1e3, "instructions": hello.latency_instructions(int(np.median(ticks))),
            "idle_core": idle}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="int8 .tflite (or a run directory)")
    parser.add_argument("--boards", default="qemu_m4,qemu_rv32", help="comma-separated QEMU boards")
    parser.add_argument("--images", type=int, default=10, help="frames per measurement (default 10)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle CPU measurement (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="boots per board; the best is reported")
    args = parser.parse_args()
    print(f"QEMU -icount {ICOUNT}; best of {args.rounds} boots, {args.images} frames each")
    for env in args.boards.split(","):
        build = build_firmware(env, args.model, log=lambda *_: None)
        runs = [measure(env, build.firmware, args.images, args.idle) for _ in range(args.rounds)]
        best = {k: (min if k == "idle_core" else max)(r[k] for r in runs) for k in runs[0]}
        print(f"{env:>10}: receive {best['receive_kb_s']:6.1f} KB/s, {best['images_s']:5.2f} images/s of "
              f"{best['image_kb']:.1f} KB ({best['instructions']:,} instructions each), idle "
              f"{100 * best['idle_core']:.1f} % of a core")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
