"""`predict`: the top-K classes of image files, with probabilities, on a host runtime or a device.

Each image goes through the same decoding as training data (EXIF orientation, gray or RGB as the model
needs, centre crop to its aspect, bilinear resize) and the same uint8 → int8 table as the firmware; the
int8 output is dequantized with the model's output scale and zero point (the softmax output: (q + 128)/256).
On a device (`port`) the serial protocol's infer runs it, after checking the device runs this very model.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import UserError

RUNTIMES = ("tflm", "compiled", "litert")


@dataclass
class Prediction:
    image: str
    top: list[tuple[str, float]]  # (label, probability), most likely first
    output: np.ndarray  # the raw int8 output

    def line(self) -> str:
        return f"{self.image}: " + ", ".join(f"{label} {p:.3f}" for label, p in self.top)


def _host_runner(runtime: str, model_bytes: bytes):
    if runtime == "compiled":
        from .compiler.host import CompiledHostInterpreter

        return CompiledHostInterpreter(model_bytes)
    from .interpreters import make_interpreter

    return make_interpreter(runtime, model_bytes)


def predict_images(images, model, *, runtime: str = "tflm", port: str | None = None, top: int = 3,
                   timeout: float = 30) -> list[Prediction]:
    """Top-`top` labels of each image file, on `runtime` on the host or on the device at `port`."""
    from .data.folders import decode_image
    from .evaluate import load_model_for_data
    from .interpreters import TflmInterpreter, quantize_pixels

    if not images:
        raise UserError("no images given")
    if runtime not in RUNTIMES:
        raise UserError(f"unknown runtime {runtime!r}: choose one of {', '.join(RUNTIMES)}")
    if top < 1:
        raise UserError("--top must be at least 1")
    facts, _ = load_model_for_data(model, runtime, for_device=port is not None)
    labels, model_bytes, input_shape, outputs = facts.class_names(), facts.data, facts.input_shape, facts.output_size
    for p in images:  # every file is checked before any inference
        if not Path(p).is_file():
            raise UserError(f"no such image: {p}")
    pixels = [decode_image(Path(p), input_shape) for p in images]
    reference = TflmInterpreter(model_bytes)  # the input/output quantization, from the authority
    inp, out = reference.input_details, reference.output_details
    if port is not None:
        from .device.link import DeviceLink
        from .device.serial_test import check_device_matches

        with DeviceLink(port, timeout=timeout) as link:
            link.sync()
            check_device_matches(link.hello(), facts)
            raw = [np.asarray(link.infer(p).output, dtype=np.int8) for p in pixels]
    else:
        runner = reference if runtime == "tflm" else _host_runner(runtime, model_bytes)
        try:
            raw = [np.asarray(runner.run(quantize_pixels(p, inp)), dtype=np.int8).reshape(-1) for p in pixels]
        finally:
            getattr(runner, "close", lambda: None)()
    k = min(top, outputs)
    results = []
    for path, q in zip(images, raw):
        probs = (q.astype(np.float64) - out.zero_point) * out.scale
        order = np.argsort(-probs, kind="stable")[:k]  # ties: the lower class index, as argmax does
        results.append(Prediction(str(path), [(labels[i], float(probs[i])) for i in order], q))
    return results
