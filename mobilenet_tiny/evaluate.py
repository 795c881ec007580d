"""`evaluate`: accuracy, per-class metrics and confusion matrix of a converted int8 model on a host runtime,
on the images data/selection.py picks (a run's validation split by default)."""
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import UserError


@dataclass
class EvaluateResult:
    runtime: str
    accuracy: float
    images: int
    labels: list[str]
    confusion: np.ndarray
    description: str = ""  # which images: "validation split of RUN: 500 images of DIR"
    split: str = "all"
    files: list[str] = field(default_factory=list)
    per_class: list[dict] = field(default_factory=list)
    misclassified: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"runtime": self.runtime, "accuracy": self.accuracy, "images": self.images, "split": self.split,
                "description": self.description, "labels": self.labels, "per_class": self.per_class,
                "confusion_matrix": self.confusion.tolist(), "files": self.files,
                "misclassified": self.misclassified}


def load_model_for_data(model_path, runtime: str = "tflm", for_device: bool = False):
    """(model_facts record, the run it belongs to or None) of a .tflite or a run directory holding
    model.tflite; one-line errors for anything unusable (the file, not full-int8, TFLM refusing it, and for
    a device, anything the firmware cannot carry)."""
    from .data.selection import find_run
    from .interpreters import check_tflm_accepts
    from .model_facts import check_for_microcontroller, load_model_facts

    model = load_model_facts(model_path)
    if for_device:
        from .device.model_meta import check_firmware_model

        check_firmware_model(model)
    else:
        check_for_microcontroller(model)
        if runtime == "tflm":
            check_tflm_accepts(model.data)  # in a child: a model TFLM aborts on becomes an error message
    return model, find_run(Path(model.source))


def evaluate_tflite(model_path, data: str | None = None, *, split: str | None = None, runtime: str = "tflm",
                    limit: int | None = None, val_split: float = 0.2, seed: int | None = None) -> EvaluateResult:
    from .convert.report import evaluate_int8, per_class_metrics
    from .data.selection import align_to_model, select_images
    from .interpreters import make_interpreter

    model, run = load_model_for_data(model_path, runtime)
    interp = make_interpreter(runtime, model.data)
    chosen = select_images(model.input_shape, run=run, data=data, split=split, limit=limit, seed=seed,
                           val_split=val_split)
    chosen = align_to_model(chosen, model.output_size, model.labels, model=str(model_path))
    if len(chosen.y) == 0:
        raise UserError(f"{chosen.source}: no images to evaluate on")
    ev = evaluate_int8(runtime, model.data, chosen.x, chosen.y, len(chosen.labels), interpreter=interp)
    wrong = np.flatnonzero(ev.predictions != chosen.y)
    return EvaluateResult(runtime, ev.accuracy, len(chosen.y), list(chosen.labels), ev.confusion, chosen.description,
                          chosen.split, chosen.files, per_class_metrics(ev.confusion, chosen.labels),
                          [{"file": chosen.keys[i], "true": chosen.labels[int(chosen.y[i])],
                            "predicted": chosen.labels[int(ev.predictions[i])]} for i in wrong])
