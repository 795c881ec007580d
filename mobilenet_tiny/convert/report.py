"""Accuracy of a converted model on the host runtimes, their agreement, and what the device needs.

TFLM is the authority (firmware must match it byte for byte); LiteRT's reference kernels are a second
opinion that was seen to differ by a unit or two on rare inputs. Differences are counted and reported,
never hidden."""
from dataclasses import dataclass

import numpy as np

from ..errors import UserError, one_line
from ..fileio import atomic_path, atomic_write
from ..interpreters import LiteRtInterpreter, TflmInterpreter, quantize_pixels


@dataclass
class Evaluation:
    runtime: str
    outputs: np.ndarray  # int8 (N, classes)
    predictions: np.ndarray
    accuracy: float
    confusion: np.ndarray  # rows: true class, columns: predicted


def confusion_matrix(y_true, y_pred, num_classes: int) -> np.ndarray:
    m = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return m


def evaluate_int8(runtime: str, model_bytes: bytes, images: np.ndarray, labels_y: np.ndarray,
                  num_classes: int, interpreter=None) -> Evaluation:
    """Run uint8 `images` (N×H×W×C) through an int8 runtime; the pixels are quantized the device's way."""
    interp = interpreter or {"tflm": TflmInterpreter, "litert": LiteRtInterpreter}[runtime](model_bytes)
    q = quantize_pixels(images, interp.input_details)
    outputs = interp.run_batch(q)
    pred = outputs.argmax(axis=1)
    acc = float((pred == labels_y).mean()) if len(labels_y) else float("nan")
    return Evaluation(runtime, outputs, pred, acc, confusion_matrix(labels_y, pred, num_classes))


def keras_accuracy(model, images: np.ndarray, labels_y: np.ndarray, batch_size: int = 64) -> float:
    probs = model.predict(images.astype(np.float32) / 255.0, batch_size=batch_size, verbose=0)
    return float((probs.argmax(axis=1) == labels_y).mean())


def compare_runtimes(a: Evaluation, b: Evaluation) -> dict:
    diff = np.abs(a.outputs.astype(np.int32) - b.outputs.astype(np.int32))
    differing = diff.reshape(len(diff), -1).max(axis=1) > 0 if len(diff) else np.zeros(0, bool)
    return {
        "inputs": int(len(diff)),
        "inputs_differing": int(differing.sum()),
        "max_abs_difference": int(diff.max()) if diff.size else 0,
        "class_agreement": float((a.predictions == b.predictions).mean()) if len(diff) else float("nan"),
    }


def first_divergences(model_bytes: bytes, inputs: np.ndarray) -> list[dict]:
    """For each int8 input, the first tensor (in execution order) where TFLM and LiteRT's reference kernels
    disagree, and by how much: a one-unit rounding difference in one layer can grow downstream (softmax
    amplifies its input's quantization step), and this tells which it was."""
    from ai_edge_litert import interpreter as litert
    from tflite_micro import runtime

    ref = litert.Interpreter(model_content=bytes(model_bytes), num_threads=1,
                             experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF,
                             experimental_preserve_all_tensors=True)
    ref.allocate_tensors()
    micro = runtime.Interpreter.from_bytes(bytes(model_bytes), arena_size=max(len(model_bytes) * 10, 8 << 20),
                                           intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    model_input = ref.get_input_details()[0]
    from ..model_facts import read_model_facts

    order = [t for op in read_model_facts(model_bytes).operators for t in op.outputs]  # execution order
    names = {d["index"]: d["name"] for d in ref.get_tensor_details()}
    found = []
    for x in inputs:
        x = np.asarray(x).reshape(model_input["shape"])
        ref.set_tensor(model_input["index"], x)
        ref.invoke()
        micro.set_input(x, 0)
        micro.invoke()
        first = None
        for idx in order:
            a = ref.get_tensor(idx)
            b = np.asarray(micro.GetTensor(idx, 0)["tensor_data"]).reshape(a.shape)
            diff = int(np.abs(a.astype(np.int32) - b.astype(np.int32)).max()) if a.size else 0
            if diff and first is None:
                first = {"tensor": names.get(idx, str(idx))[:80], "max_abs_difference": diff}
        found.append(first or {"tensor": None, "max_abs_difference": 0})
    return found


def per_class_metrics(confusion, labels: list[str]) -> list[dict]:
    """Precision, recall and F1 of each class from a confusion matrix (rows true, columns predicted)."""
    m = np.asarray(confusion, dtype=np.float64)
    rows = []
    for i, label in enumerate(labels):
        tp, predicted, actual = m[i, i], m[:, i].sum(), m[i, :].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"label": label, "precision": precision, "recall": recall, "f1": f1, "support": int(actual)})
    return rows


def compiled_facts(model_bytes: bytes, labels: list[str]) -> dict:
    """MACs, arena and constant bytes (flash) of the compiled-C runtime, or why the compiler refused."""
    import tempfile

    from ..compiler import compile_model
    from ..errors import UserError

    with tempfile.TemporaryDirectory() as tmp:
        try:
            r = compile_model(model_bytes, tmp, labels=labels)
        except UserError as e:
            return {"error": str(e)}
    return {"macs": r.macs, "arena_bytes": r.arena_bytes, "lower_bound_bytes": r.lower_bound_bytes,
            "constant_bytes": r.weight_bytes, "memory": r.memory_report()}


MISCLASSIFIED_SHOWN = 64


def build_report(*, model_bytes: bytes, summary, labels: list[str], judged, arena_bytes: int, test=None,
                 keras_models: dict | None = None, source: str = "", config: dict | None = None
                 ) -> tuple[dict, Evaluation]:
    """The report dict (JSON-ready) and the TFLM evaluation (for the pictures). `judged` is the
    data.selection.Selection scored (a run's validation split by default); `test`, a run's test split,
    is scored and reported apart."""
    n = len(labels)
    val_x, val_y = judged.x, judged.y
    tflm = evaluate_int8("tflm", model_bytes, val_x, val_y, n)
    try:
        litert = evaluate_int8("litert", model_bytes, val_x, val_y, n)
    except (UserError, RuntimeError, ValueError) as e:
        # A model TFLM runs may still be one LiteRT rejects (e.g. an op version it does not know): the
        # second opinion is then missing, which the report says, and the conversion goes on.
        litert, unavailable = None, one_line(e)[:300]
    if litert is not None:
        comparison = {**compare_runtimes(tflm, litert), "first_divergences": first_divergences(
            model_bytes, quantize_pixels(val_x[np.flatnonzero((tflm.outputs != litert.outputs).any(axis=1))[:20]],
                                         summary.input))}
    else:
        comparison = {"unavailable": unavailable}
    wrong = np.flatnonzero(tflm.predictions != val_y)
    report = {
        "source": source,
        "data": judged.source,
        "images": judged.description,
        "split": judged.split,
        "validation_images": int(len(val_y)),
        "labels": labels,
        "model_config": {k: config[k] for k in ("arch", "alpha", "input_shape", "epochs", "qat_epochs", "lr",
                                                "lr_schedule", "patience", "augment", "weights", "seed")
                         if k in config} if config else None,
        "accuracy": {
            **{f"keras_{name}": keras_accuracy(m, val_x, val_y) for name, m in (keras_models or {}).items()},
            "int8_tflm": tflm.accuracy,
            **({"int8_litert_reference": litert.accuracy} if litert is not None else {}),
        },
        "per_class_tflm": per_class_metrics(tflm.confusion, labels),
        "misclassified_tflm": [{"file": judged.keys[i] if judged.keys else str(i), "true": labels[int(val_y[i])],
                                "predicted": labels[int(tflm.predictions[i])]} for i in wrong],
        "tflm_vs_litert_reference": comparison,
        "model_bytes": len(model_bytes),
        "tflm_arena_bytes": arena_bytes,
        "compiled_runtime": compiled_facts(model_bytes, labels),
        "ops": list(summary.ops),
        "operators": summary.op_count,
        "input": {"shape": list(summary.input.shape), "dtype": summary.input.dtype,
                  "scale": summary.input.scale, "zero_point": summary.input.zero_point},
        "output": {"shape": list(summary.output.shape), "dtype": summary.output.dtype,
                   "scale": summary.output.scale, "zero_point": summary.output.zero_point},
        "confusion_matrix_tflm": tflm.confusion.tolist(),
    }
    if test is not None and len(test.y):
        test_tflm = evaluate_int8("tflm", model_bytes, test.x, test.y, n)
        report["test"] = {
            "images": test.description, "count": int(len(test.y)),
            "accuracy": {**{f"keras_{name}": keras_accuracy(m, test.x, test.y)
                            for name, m in (keras_models or {}).items()}, "int8_tflm": test_tflm.accuracy},
            "confusion_matrix_tflm": test_tflm.confusion.tolist(),
        }
    return report, tflm


def render_markdown(report: dict) -> str:
    acc = report["accuracy"]
    cmp = report["tflm_vs_litert_reference"]
    compiled = report.get("compiled_runtime") or {}
    config = report.get("model_config")
    lines = [
        f"# Conversion report: {report['source']}",
        "",
        f"Judged on {report.get('images') or report['data']}.",
        "",
    ]
    if config:
        lines += ["Model: " + ", ".join(f"{k} {v}" for k, v in config.items() if v is not None), ""]
    lines += [
        "| runtime | accuracy |",
        "|---|---|",
        *[f"| {k.replace('_', ' ')} | {v:.4f} |" for k, v in acc.items()],
        "",
    ]
    if report.get("test"):
        t = report["test"]
        lines += [f"Test split, scored apart ({t['images']}): "
                  + ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in t["accuracy"].items()) + ".", ""]
    lines += [
        litert_comparison_text(cmp),
        "",
        f"- model: {report['model_bytes']:,} bytes, {report['operators']} operators; ops: {', '.join(report['ops'])}",
        f"- TFLM tensor arena (host measurement): {report['tflm_arena_bytes']:,} bytes",
    ]
    if "macs" in compiled:
        lines.append(f"- {compiled['macs']:,} MACs; compiled-C runtime: arena {compiled['arena_bytes']:,} bytes "
                     f"(lower bound {compiled['lower_bound_bytes']:,}), {compiled['constant_bytes']:,} bytes of "
                     "constants in flash (plus the kernels' code)")
        if compiled.get("memory"):
            lines.append(f"- compiled-C memory ({compiled['memory']['summary']}); bytes live per step in "
                         "memory.png")
    elif compiled.get("error"):
        lines.append(f"- compiled-C runtime: not available for this model ({compiled['error']})")
    lines += [
        f"- input {report['input']['dtype']}{report['input']['shape']} scale {report['input']['scale']:.9g} "
        f"zero point {report['input']['zero_point']}; output {report['output']['dtype']}{report['output']['shape']} "
        f"scale {report['output']['scale']:.9g} zero point {report['output']['zero_point']}",
        "",
        "## Per class (int8, TFLM)",
        "",
        "| class | precision | recall | F1 | images |",
        "|---|---|---|---|---|",
        *[f"| {r['label']} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1']:.3f} | {r['support']} |"
          for r in report.get("per_class_tflm", [])],
        "",
        "## Confusion matrix (TFLM; rows: true class, columns: predicted)",
        "",
        "| | " + " | ".join(report["labels"]) + " |",
        "|---" * (len(report["labels"]) + 1) + "|",
        *[f"| {label} | " + " | ".join(str(v) for v in row) + " |"
          for label, row in zip(report["labels"], report["confusion_matrix_tflm"])],
        "",
    ]
    wrong = report.get("misclassified_tflm", [])
    lines += [f"## Misclassified ({len(wrong)}; pictures of the first {min(len(wrong), MISCLASSIFIED_SHOWN)} "
              "in misclassified.png)", ""]
    lines += [f"- {w['file']}: {w['true']} → {w['predicted']}" for w in wrong[:200]]
    if len(wrong) > 200:
        lines.append(f"- … {len(wrong) - 200} more in report.json")
    lines.append("")
    return "\n".join(lines)


def litert_comparison_text(cmp: dict) -> str:
    if "unavailable" in cmp:
        return (f"LiteRT's reference kernels are unavailable for this model ({cmp['unavailable']}): no second "
                "opinion. TFLM is what the firmware must match.")
    return (f"TFLM vs LiteRT reference kernels on {cmp['inputs']} inputs: {cmp['inputs_differing']} differ "
            f"(largest difference {cmp['max_abs_difference']} int8 units), top class agrees on "
            f"{cmp['class_agreement'] * 100:.2f} %. TFLM is what the firmware must match."
            + "".join(f" Where they differ, the first layer to disagree is {d['tensor']} by {d['max_abs_difference']} "
                      "unit(s)." for d in cmp.get("first_divergences", [])[:3]))


def plot_confusion(matrix, labels: list[str], path, title: str = "int8 (TFLM) confusion matrix"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.asarray(matrix)
    size = 1.2 + 0.6 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            ax.text(j, i, str(m[i, j]), ha="center", va="center",
                    color="white" if m[i, j] > m.max() / 2 else "black")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


def plot_contact_sheet(images: np.ndarray, captions: list[str], path, columns: int = 8):
    """A grid of images with a caption under each (the misclassified ones: "true → predicted")."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(len(images), 1)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.4, rows * 1.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, caption in zip(axes.flat, images, captions):
        gray = image.shape[-1] == 1
        ax.imshow(image[..., 0] if gray else image, cmap="gray" if gray else None, vmin=0, vmax=255)
        ax.set_title(caption, fontsize=6)
    if not len(images):
        axes.flat[0].text(0.5, 0.5, "no misclassified images", ha="center", va="center")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)


def write_report(report: dict, tflm: Evaluation, out_dir, labels, judged=None) -> list:
    """report.json, report.md, confusion.png and misclassified.png (a contact sheet); returns the paths."""
    import json
    from pathlib import Path

    out_dir = Path(out_dir)
    atomic_write(out_dir / "report.json", json.dumps(report, indent=2))
    atomic_write(out_dir / "report.md", render_markdown(report))
    plot_confusion(tflm.confusion, labels, out_dir / "confusion.png")
    files = [out_dir / "report.json", out_dir / "report.md", out_dir / "confusion.png"]
    memory = (report.get("compiled_runtime") or {}).get("memory")
    if memory:
        from ..compiler.memory_chart import plot_live_bytes

        plot_live_bytes(memory, out_dir / "memory.png", "compiled-C runtime: activation memory per step")
        files.append(out_dir / "memory.png")
    if judged is not None:
        wrong = np.flatnonzero(tflm.predictions != judged.y)[:MISCLASSIFIED_SHOWN]
        plot_contact_sheet(judged.x[wrong], [f"{labels[int(judged.y[i])]} → {labels[int(tflm.predictions[i])]}"
                                             for i in wrong], out_dir / "misclassified.png")
        files.append(out_dir / "misclassified.png")
    return files
