"""Load, allocate and invoke a model in the host TFLM interpreter, in a child process.

TFLM's Prepare code aborts the whole process on some bad models (e.g. an int8 SOFTMAX whose input scale
collapsed); in a child the parent survives and can name the problem. Prints one JSON line.
Usage: python -m mobilenet_tiny.tflm_probe MODEL.tflite ARENA_BYTES
"""
import json
import sys

import numpy as np


def main(path: str, arena: int) -> int:
    from tflite_micro import runtime

    from .errors import one_line
    from .interpreters import _capture_fd2

    data = open(path, "rb").read()
    try:
        interp = runtime.Interpreter.from_bytes(data, arena_size=arena)
        details = interp.get_input_details(0)
        interp.set_input(np.zeros(details["shape"], dtype=details["dtype"]), 0)
        interp.invoke()
    except (RuntimeError, ValueError) as e:
        print(json.dumps({"ok": False, "error": one_line(e)[:300]}))
        return 1
    except Exception as e:  # the wrapper's own flatbuffer unpacking (TypeError, struct.error, ...)
        print(json.dumps({"ok": False, "error": f"{type(e).__name__}: {one_line(e)}"[:300]}))
        return 1
    text = _capture_fd2(interp.print_allocations)
    total = next((int(w) for line in text.splitlines() if "Arena allocation total" in line
                  for w in line.split() if w.isdigit()), None)
    print(json.dumps({"ok": total is not None, "arena_used_bytes": total, "error": None if total else text[:300]}))
    return 0 if total is not None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
