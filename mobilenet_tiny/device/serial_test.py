"""`mobilenet-tiny serial-test`: every image through the device and through the host TFLM interpreter;
the two int8 outputs must be identical byte for byte.

Works against anything that speaks the protocol: a real board's serial port or a QEMU board's socket.
"""
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserError
from ..interpreters import TflmInterpreter, quantize_pixels
from ..model_facts import ModelFacts, read_model_facts
from .link import DeviceLink
from .protocol import Hello


@dataclass
class Mismatch:
    index: int
    max_abs_diff: int
    device_top: int
    host_top: int


@dataclass
class SerialTestReport:
    hello: Hello
    count: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    device_correct: int = 0
    host_correct: int = 0
    labelled: bool = False
    latency_ticks: list[int] = field(default_factory=list)
    label_names: list[str] = field(default_factory=list)
    true_labels: list[int] = field(default_factory=list)
    device_predictions: list[int] = field(default_factory=list)
    description: str = ""  # which images were sent
    files: list[str] = field(default_factory=list)  # and which files (or generated indices) they were

    def confusion(self) -> np.ndarray:
        """The device's confusion matrix (rows: true class, columns: the device's top class)."""
        k = max(len(self.label_names), max(self.true_labels + self.device_predictions, default=-1) + 1)
        m = np.zeros((k, k), dtype=np.int64)
        np.add.at(m, (np.array(self.true_labels, dtype=np.int64), np.array(self.device_predictions, dtype=np.int64)), 1)
        return m

    @property
    def bit_exact(self) -> int:
        return self.count - len(self.mismatches)

    @property
    def ok(self) -> bool:
        return self.count > 0 and not self.mismatches

    def latency_instructions(self) -> list[int] | None:
        ipt = self.hello.instructions_per_tick
        return [t * ipt for t in self.latency_ticks] if ipt else None

    def summary_lines(self) -> list[str]:
        h = self.hello
        lines = [f"device: {h.board}, runtime {h.runtime}, arena {h.arena_bytes:,} B, model {h.model_sha256[:16]}",
                 f"bit-exact with host TFLM: {self.bit_exact}/{self.count}"
                 + (f", {len(self.mismatches)} MISMATCHES" if self.mismatches else "")]
        for m in self.mismatches[:10]:
            lines.append(f"  image {m.index}: max |diff| {m.max_abs_diff}, top class device {m.device_top} "
                         f"vs host {m.host_top}")
        if self.labelled and self.count:
            lines.append(f"accuracy: device {self.device_correct / self.count:.4f}, "
                         f"host TFLM {self.host_correct / self.count:.4f} ({self.count} images"
                         + (f"; {self.description}" if self.description else "") + ")")
            lines += self.confusion_lines()
        if self.latency_ticks:
            lines.append("latency: " + latency_text(h, self.latency_ticks))
        return lines

    def confusion_lines(self) -> list[str]:
        names = self.label_names or [str(i) for i in range(len(self.confusion()))]
        m = self.confusion()
        width = max(6, *(len(n) for n in names))
        cell = max(5, len(str(int(m.max()))) + 1, *(len(n) + 1 for n in names))
        lines = ["device confusion matrix (rows: true class, columns: the device's top class):",
                 " " * (width + 2) + "".join(n.rjust(cell) for n in names)]
        lines += [f"  {name.ljust(width)}" + "".join(str(int(v)).rjust(cell) for v in row) for name, row in zip(names, m)]
        return lines


def latency_text(hello: Hello, latency_ticks) -> str:
    """Median latency in ticks, instructions (QEMU boards) and ms at the board's clock, with min and max."""
    ticks = np.array(latency_ticks)
    median = int(np.median(ticks))
    ms = hello.latency_ms(median)
    ms_text = f", {ms:.2f} ms {hello.clock_text()}" if ms is not None else ""
    if hello.instructions_per_tick:
        ins = ticks * hello.instructions_per_tick
        return (f"{hello.latency_instructions(median):,} instructions per inference (median; min {int(ins.min()):,}, "
                f"max {int(ins.max()):,}; {median:,} ticks of {hello.timer}){ms_text}")
    return f"{median:,} ticks median (min {int(ticks.min()):,}, max {int(ticks.max()):,}; {hello.timer}){ms_text}"


def check_device_matches(hello: Hello, facts: ModelFacts):
    if hello.runtime_error:
        raise UserError(f"device {hello.board} could not start its model: {hello.runtime_error}")
    if hello.model_sha256 != facts.sha256:
        raise UserError(f"device {hello.board} runs model {hello.model_sha256[:16]}, not this one "
                        f"({facts.sha256[:16]}): build and flash it with this model first")


def run_serial_test(link: DeviceLink, model: ModelFacts | bytes, images: np.ndarray, labels=None,
                    progress=None, require_same_model: bool = True) -> SerialTestReport:
    """Send each uint8 image (N×H×W×C) to the device and compare with the host TFLM interpreter (`model`:
    the model_facts record, or .tflite bytes).

    `require_same_model=False` skips the check that the device runs exactly these .tflite bytes (for
    comparing a device against a deliberately different host model)."""
    if not isinstance(model, ModelFacts):
        model = read_model_facts(model)
    hello = link.hello()
    if require_same_model:
        check_device_matches(hello, model)
    elif hello.runtime_error:
        raise UserError(f"device {hello.board} could not start its model: {hello.runtime_error}")
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise UserError(f"images must be uint8 pixels, got {images.dtype}")
    if tuple(images.shape[1:]) != hello.input_shape:
        raise UserError(f"images are {images.shape[1:]} but the model input is {hello.input_shape}")
    host = TflmInterpreter(model.data)
    report = SerialTestReport(hello=hello, labelled=labels is not None)
    for i, image in enumerate(images):
        result = link.infer(image)
        expected = host.run(quantize_pixels(image, host.input_details)).reshape(-1)
        host_top = int(np.argmax(expected))
        if not np.array_equal(result.output, expected):
            diff = int(np.max(np.abs(result.output.astype(np.int16) - expected.astype(np.int16)))) \
                if result.output.shape == expected.shape else 255
            report.mismatches.append(Mismatch(i, diff, result.top_class, host_top))
        if labels is not None:
            report.device_correct += int(result.top_class == int(labels[i]))
            report.host_correct += int(host_top == int(labels[i]))
            report.true_labels.append(int(labels[i]))
            report.device_predictions.append(int(result.top_class))
        report.latency_ticks.append(result.latency_ticks)
        report.count += 1
        if progress:
            progress(i + 1, len(images))
    return report


def serial_test(port: str, model, *, data: str | None = None, split: str | None = None, limit: int | None = None,
                seed: int | None = None, timeout: float = 30, baudrate: int = 115200, log=None) -> SerialTestReport:
    """`mobilenet-tiny serial-test`: the model (a .tflite or a run) and the images evaluate would judge it
    on (a run's validation split by default), sent to the device at `port`. Progress goes to `log`: a bar on
    a terminal, else a line at least every 10 s."""
    from ..data.selection import align_to_model, select_images
    from ..evaluate import load_model_for_data
    from ..progress import task_progress
    from .link import check_port

    check_port(port)
    facts, run = load_model_for_data(model, for_device=True)
    chosen = select_images(facts.input_shape, run=run, data=data, split=split, limit=limit, seed=seed)
    chosen = align_to_model(chosen, facts.output_size, facts.labels, model=str(model))
    with DeviceLink(port, timeout=timeout, baudrate=baudrate) as link, \
            task_progress("images", len(chosen.y), log) as bar:
        link.sync()
        report = run_serial_test(link, facts, chosen.x, chosen.y, progress=lambda done, _total: bar.update(done))
    report.label_names = list(chosen.labels)
    report.description = chosen.description
    report.files = chosen.files
    return report
