"""`convert`: a training run, a Keras file or a SavedModel → model.tflite (full int8) → C array → report.

QAT models keep the ranges they learned; float models are quantized post-training with a representative
set drawn from the data. The outputs form one set (fileio.output_set): they are written into a staging
directory and moved into the output directory together once all of them exist, so a failure or Ctrl-C at
any point leaves the previous set whole."""
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UserError, one_line
from ..fileio import atomic_write, output_set

ARENA_MARGIN_BYTES = 1024
REPRESENTATIVE_IMAGES = 256


def tflm_arena_bytes(model_bytes: bytes, arena_limit: int | None = None) -> tuple[int, int]:
    """(bytes TFLM's arena used on the host, the size firmware should reserve: that plus a margin,
    16-byte aligned). The host build has 64-bit pointers, so its figure is an upper bound for a 32-bit MCU."""
    from ..interpreters import measure_tflm_arena

    used = measure_tflm_arena(model_bytes, arena_limit)
    return used, int(math.ceil((used + ARENA_MARGIN_BYTES) / 16) * 16)


@dataclass
class ConvertResult:
    out_dir: Path
    tflite_path: Path
    model_bytes: bytes
    labels: list[str]
    arena_bytes: int
    files: list[Path] = field(default_factory=list)
    report: dict | None = None
    compiled: object = None


@dataclass
class _Source:
    kind: str  # "run", "keras", "tflite"
    model: object = None  # the Keras model to convert (QAT or float)
    reference_models: dict = field(default_factory=dict)  # Keras models whose accuracy goes in the report
    tflite: bytes | None = None
    labels: list[str] | None = None
    data: str | None = None
    val_split: float = 0.2
    val_dir: str | None = None
    seed: int = 0
    run_dir: Path | None = None
    config: dict | None = None  # the run's training configuration, for the report


def _load_keras_file(path: Path):
    from ..tf_env import keras, tfmot

    try:
        with tfmot().quantization.keras.quantize_scope():
            return keras.models.load_model(str(path), compile=False)
    except Exception as e:
        raise UserError(f"{path}: cannot load as a Keras model ({type(e).__name__}: "
                        f"{one_line(e)[:200]})") from None


def _source_kind(source) -> str:
    """"run", "saved_model", "tflite" or "keras", from the path alone (nothing is loaded yet)."""
    path = Path(source)
    if not path.exists():
        raise UserError(f"{source}: no such file or directory")
    if path.is_dir() and (path / "config.json").is_file():
        return "run"
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return "saved_model"
    if path.is_file() and path.suffix.lower() == ".tflite":
        return "tflite"
    if path.is_file() and path.suffix.lower() in (".h5", ".hdf5", ".keras"):
        return "keras"
    raise UserError(f"{source}: expected a training run directory, a Keras .h5/.keras file, a SavedModel "
                    "directory or a .tflite")


def check_run_finished(run_dir, allow_float: bool = False) -> dict:
    """The run's phases must be finished before it is converted: a QAT phase cut short would otherwise be
    replaced, silently, by post-training quantization of the float model. Returns train.run_status."""
    from ..train import run_status

    status = run_status(run_dir)
    resume = f"finish it with `mobilenet-tiny train --out {run_dir} --resume`"
    fl, qat = status["float"], status["qat"]
    if fl["total"] and not (fl["finished"] and fl["model_file"]):
        raise UserError(f"{run_dir}: the float phase is incomplete ({fl['completed']} of {fl['total']} epochs): "
                        f"{resume}")
    if qat["total"] and not (qat["finished"] and qat["model_file"]) and not allow_float:
        raise UserError(f"{run_dir}: the QAT phase is incomplete ({qat['completed']} of {qat['total']} epochs): "
                        f"{resume}, or pass --allow-float to quantize the float model post-training instead")
    return status


def _resolve(source, allow_float: bool = False) -> _Source:
    path = Path(source)
    kind = _source_kind(source)
    if kind == "run":
        from ..train import load_config

        config = load_config(path)
        float_path, qat_path = path / "float_model.h5", path / "qat_model.h5"
        if not float_path.exists() and not qat_path.exists():
            raise UserError(f"{source}: the run has no trained model yet (train it first)")
        status = check_run_finished(path, allow_float)
        refs = {}
        if float_path.exists():
            refs["float"] = _load_keras_file(float_path)
        if qat_path.exists() and status["qat"]["finished"] and not allow_float:
            refs["qat"] = _load_keras_file(qat_path)
        model = refs.get("qat") or refs["float"]
        return _Source("run", model, refs, labels=config.labels, data=config.data, val_split=config.val_split,
                       val_dir=config.val_dir, seed=config.seed, run_dir=path, config=config.to_json())
    if kind == "tflite":
        return _Source("tflite", tflite=path.read_bytes())
    model = _load_keras_file(path)
    return _Source("keras", model, {"float": model})


def _is_qat(model) -> bool:
    return any(type(layer).__name__.startswith("Quantize") for layer in model.layers)


def convert_model(source, out_dir=None, *, data: str | None = None, val_split: float | None = None,
                  val_dir: str | None = None, seed: int | None = None, name: str = "model",
                  arena_limit: int | None = None, compile_c: bool = False, report: bool = True,
                  split: str | None = None, allow_float: bool = False, log=print) -> ConvertResult:
    """A run, Keras model or .tflite → full-int8 model, C array and (with data) the accuracy report.

    A run is judged on its own recorded validation split (`split` chooses another), its test split is
    reported apart, and its training split calibrates a float model; `data` overrides the run's data
    (data/selection.py says how). Other sources need `data` (split by `val_split` / `val_dir` / `seed`)."""
    from ..c_source import check_c_name

    check_c_name(name)
    kind = _source_kind(source)
    out_dir = Path(out_dir) if out_dir else (Path(source) if kind == "run" else Path(source).parent)
    # Entering the output set checks that out_dir can be written, before seconds of loading and converting.
    with output_set(out_dir, f"convert:{name}") as outputs:
        result = _convert(source, outputs, data=data, val_split=val_split, val_dir=val_dir, seed=seed, name=name,
                          arena_limit=arena_limit, compile_c=compile_c, report=report, split=split,
                          allow_float=allow_float, log=log)
    result.files = [out_dir / f.name for f in result.files]
    return result


def _convert(source, outputs, *, data, val_split, val_dir, seed, name, arena_limit, compile_c, report, split,
             allow_float, log) -> ConvertResult:
    from ..model_facts import check_for_microcontroller, read_model_facts
    from .c_array import write_c_array
    from .report import build_report, write_report
    from .tflite import check_layers, keras_to_int8_tflite

    src = _resolve(source, allow_float)
    stage, out_dir = outputs.dir, outputs.out_dir
    if src.model is not None:
        check_layers(src.model, str(source))
    if src.kind == "keras" and data is None:
        raise UserError(f"{source}: --data is needed to calibrate the quantization of a Keras model")

    # The input shape comes from the model: images are resized/converted to it.
    model = None
    if src.kind == "tflite":
        model = read_model_facts(src.tflite, str(source))
        check_for_microcontroller(model)
        input_shape = model.input_shape
        n_out = model.output_size
    else:
        shape = src.model.input_shape
        if isinstance(shape, list) or len(shape) != 4:
            raise UserError(f"{source}: expected one image input (N, H, W, C), got {shape}")
        input_shape = tuple(int(d) for d in shape[1:])
        n_out = int(src.model.output_shape[-1])

    judged, test, calibration, labels = _report_images(src, input_shape, n_out, data=data, split=split,
                                                       val_split=val_split, val_dir=val_dir, seed=seed,
                                                       want_report=report)
    if model is None:
        kind = "quantization-aware trained" if _is_qat(src.model) else "float (post-training quantization)"
        log(f"converting the {kind} model to full int8 …")
        model = read_model_facts(keras_to_int8_tflite(src.model, calibration().astype(np.float32) / 255.0),
                                 str(source))
        check_for_microcontroller(model)
    model = model.with_labels(labels)
    labels, model_bytes = list(model.labels), model.data
    arena_used, arena_bytes = tflm_arena_bytes(model_bytes, arena_limit)

    # Everything is written into the staging directory; output_set moves the set into out_dir at the end.
    result = ConvertResult(out_dir, out_dir / f"{name}.tflite", model_bytes, labels, arena_bytes)
    # The set always holds the model its C files were made from (a .tflite source too: a copy, or the same
    # bytes over itself), so no model.tflite of an earlier run can end up beside them.
    result.files.append(atomic_write(stage / result.tflite_path.name, model_bytes))
    c_files = write_c_array(model, stage, name=name, arena_bytes=arena_bytes)
    result.files += [c_files.header, c_files.source]
    if report and judged is not None and len(judged.y):
        result.report, tflm_eval = build_report(
            model_bytes=model_bytes, summary=model, labels=labels, judged=judged, test=test,
            arena_bytes=arena_used, keras_models=src.reference_models, source=str(source), config=src.config)
        result.files += write_report(result.report, tflm_eval, stage, labels, judged)
    elif report:
        log("no images to report on (the run has no validation split): pass --data DIR or --split train|test")
    if compile_c:
        from ..compiler import compile_model

        result.compiled = compile_model(model, stage, name=name)
        result.files += [stage / f"{name}.h", stage / f"{name}.c"]
    return result
def _report_images(src: _Source, input_shape, n_out: int, *, data, split, val_split, val_dir, seed,
                   want_report: bool):
    """(images the report judges, the test split or None, a function giving calibration images, labels)."""
    from ..data import load_data
    from ..data.run_splits import read_run_splits
    from ..data.selection import align_to_model, check_labels, select_images

    if src.kind == "run" and read_run_splits(src.run_dir) is not None and val_dir is None:
        rs = read_run_splits(src.run_dir)
        labels = list(rs.labels)
        check_labels(labels, n_out, src.labels, model=f"{src.run_dir}'s model", data=f"{src.run_dir}'s data")
        judged = None
        if want_report:
            wanted = split or ("val" if len(rs.items("val")) else None)
            if wanted is not None or data is not None:
                judged = align_to_model(select_images(input_shape, run=src.run_dir, data=data, split=wanted), n_out,
                                        labels, model=f"{src.run_dir}'s model")
        test = None
        if want_report and data is None and split in (None, "val") and len(rs.items("test")):
            test = select_images(input_shape, run=src.run_dir, split="test")

        def calibration():
            if _is_qat(src.model):  # a QAT model's ranges are learned: TF ignores the set but wants one
                return (judged or select_images(input_shape, run=src.run_dir, split="train", limit=8)).x[:8]
            return select_images(input_shape, run=src.run_dir, split="train", limit=REPRESENTATIVE_IMAGES).x

        return judged, test, calibration, labels

    data_spec = data or src.data
    images = None
    labels = src.labels
    if data_spec is not None:
        images = load_data(data_spec, input_shape, val_split=src.val_split if val_split is None else val_split,
                           val_dir=val_dir if val_dir is not None else src.val_dir,
                           seed=src.seed if seed is None else seed)
        mapping = check_labels(images.labels, n_out, labels, data=data_spec)
        if labels is not None and list(labels) != list(images.labels):  # same classes, another order
            images.train_y, images.val_y = mapping[images.train_y], mapping[images.val_y]
        else:
            labels = list(images.labels)
    if labels is None:
        labels = [f"class_{i}" for i in range(n_out)]
    check_labels(labels, n_out, data="the labels")
    judged = None
    if images is not None and len(images.val_x):
        from ..data.selection import Selection

        judged = Selection(labels, images.val_x, images.val_y, [], "val", str(data_spec),
                           f"validation split of {data_spec}: {len(images.val_y)} images")

    def calibration():
        if images is None:
            raise UserError("--data is needed to calibrate the quantization of a Keras model")
        pool = images.train_x if len(images.train_x) else images.val_x
        pick = np.random.default_rng(0).permutation(len(pool))[:REPRESENTATIVE_IMAGES]
        return pool[np.sort(pick)]

    return judged, None, calibration, labels
