"""Fuzz the serial firmware on an emulated board: N malformed frames (every kind the robustness test uses,
10,000 by default), each followed by a ping that must come back, a valid infer every K frames compared
byte for byte with the host TFLM interpreter. A measurement, not a test (the suite sends 1,200 frames).

    .venv/bin/python tools/fuzz_serial.py --model MODEL.tflite [--board qemu_m4] [--frames 10000]

Prints the counts per kind and per device error code, hangs (a ping unanswered within --timeout), wrong
replies (an error code PROTOCOL.md does not allow for that frame), whether QEMU is still running (a fault
ends it with exit code 3), and the wall time. Exit status 1 on any hang, wrong reply or mismatch.
"""
import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mobilenet_tiny.device.board import get_board  # noqa: E402
from mobilenet_tiny.device.emulator import Emulator  # noqa: E402
from mobilenet_tiny.device.firmware_build import build_firmware  # noqa: E402
from mobilenet_tiny.device.fuzz import fuzz  # noqa: E402
from mobilenet_tiny.device.link import DeviceLink  # noqa: E402
from mobilenet_tiny.interpreters import TflmInterpreter, quantize_pixels  # noqa: E402
from mobilenet_tiny.model_facts import load_model_facts  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="MODEL.tflite or a run directory")
    parser.add_argument("--board", default="qemu_m4")
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1, help="frame generator seed (the suite uses 0)")
    parser.add_argument("--infer-every", type=int, default=250)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each reply")
    args = parser.parse_args()

    board = get_board(args.board)
    host = TflmInterpreter(load_model_facts(args.model).data)
    rng = np.random.default_rng(args.seed)

    def exact_infer(link) -> bool:
        image = rng.integers(0, 256, link.hello().input_shape, dtype=np.uint8)
        expected = host.run(quantize_pixels(image, host.input_details)).reshape(-1)
        return bool(np.array_equal(link.infer(image).output, expected))

    with tempfile.TemporaryDirectory() as work:
        build = build_firmware(board.env, args.model, out_dir=Path(work) / "fw", log=lambda *_: None)
        print(build.summary())
        with Emulator(board, build.firmware, time_limit=24 * 3600) as qemu, \
                DeviceLink(qemu.url, timeout=args.timeout) as link:
            link.sync()
            result = fuzz(link, args.frames, seed=args.seed, infer_every=args.infer_every, infer_check=exact_infer,
                          progress=lambda done, total: print(f"  {done:,}/{total:,}", file=sys.stderr)
                          if done % 1000 == 0 else None)
            final_exact = exact_infer(link)
            alive = qemu.running()
    for line in result.summary_lines():
        print(line)
    print(f"after the run: QEMU {'still running' if alive else 'EXITED'}, a last infer "
          f"{'byte-exact' if final_exact else 'MISMATCHED'}")
    ok = (result.hangs == 0 and not result.wrong_replies and result.infers_exact == result.infers_checked
          and final_exact and alive and result.frames == args.frames)
    for frame, kind, codes, allowed in result.wrong_replies[:10]:
        print(f"  frame {frame} ({kind}): device answered {codes}, allowed {allowed}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
