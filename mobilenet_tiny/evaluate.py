"""`evaluate`: accuracy and confusion matrix of a converted int8 model on a host runtime."""
from dataclasses import dataclass
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


def evaluation_images(spec: str, input_shape, *, val_split: float = 0.2, seed: int = 0):
    """The images a model is judged on: for built-in data the validation split training used (same split
    and seed), for a folder every image in it. Returns ImageData-like (labels, x, y)."""
    from .data import BUILTIN_PREFIX, load_data

    if str(spec).startswith(BUILTIN_PREFIX):
        d = load_data(spec, input_shape, val_split=val_split, seed=seed)
        return d.labels, d.val_x, d.val_y
    d = load_data(spec, input_shape, val_split=0.0, seed=seed)
    return d.labels, np.concatenate([d.train_x, d.val_x]), np.concatenate([d.train_y, d.val_y])


def evaluate_tflite(model_path, data: str, *, runtime: str = "tflm", limit: int | None = None,
                    val_split: float = 0.2, seed: int = 0) -> EvaluateResult:
    from .convert.report import evaluate_int8
    from .interpreters import check_tflm_accepts, make_interpreter
    from .model_facts import check_for_microcontroller, read_model_facts

    path = Path(model_path)
    if not path.is_file():
        raise UserError(f"{model_path}: no such file")
    model = read_model_facts(path.read_bytes(), str(model_path))
    check_for_microcontroller(model)
    model_bytes = model.data
    if runtime == "tflm":
        check_tflm_accepts(model_bytes)  # in a child: a model TFLM aborts on becomes an error message
    interp = make_interpreter(runtime, model_bytes)
    labels, x, y = evaluation_images(data, model.input_shape, val_split=val_split, seed=seed)
    n_out = model.output_size
    if len(labels) != n_out:
        raise UserError(f"{model_path}: the model has {n_out} outputs but {data} has {len(labels)} classes")
    if limit is not None:
        x, y = x[:limit], y[:limit]
    if len(x) == 0:
        raise UserError(f"{data}: no images to evaluate on")
    ev = evaluate_int8(runtime, model_bytes, x, y, len(labels), interpreter=interp)
    return EvaluateResult(runtime, ev.accuracy, len(x), list(labels), ev.confusion)
