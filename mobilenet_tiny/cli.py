"""The `mobilenet-tiny` command line: each command is a thin call into the library.

Errors the user can fix (UserError, bad options) print one line and exit non-zero, never a traceback.
Ctrl-C (or SIGTERM) prints one line saying what was kept and exits 130 (143), whatever was running.
"""
import json
import os
import sys

from . import interrupts

interrupts.install()  # before the heavier imports: a Ctrl-C from here on is reported, not a traceback

import click  # noqa: E402

from .errors import UserError, one_line  # noqa: E402


_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", None) or getattr(
    click.exceptions, "NoArgsIsHelp")


class _Group(click.Group):
    """A click group that turns every user-facing failure into one line on stderr.

    click's own main() is not used: on Ctrl-C it prints a blank line and raises Abort (exit 1)."""

    def main(self, args=None, prog_name=None, **kwargs):
        try:
            try:
                interrupts.arm()
                code, message = self._run(sys.argv[1:] if args is None else list(args), prog_name, kwargs)
            except KeyboardInterrupt:  # arrived while the outcome of the command was being worked out
                code, message = interrupts.outcome()
            if message:
                click.echo(message if code >= 128 else f"error: {one_line(message)}", err=True)
        except KeyboardInterrupt:
            code, message = interrupts.outcome()
            click.echo(message, err=True)
        interrupts.finishing(message_printed=bool(message))
        if code >= 128:  # interrupted: end now, without TensorFlow's slow atexit handlers and thread joins
            os._exit(code)
        sys.exit(code)

    def _run(self, args, prog_name, extra) -> tuple[int, str | None]:
        """(exit status, the one line to print or None)."""
        try:
            with self.make_context(prog_name or "mobilenet-tiny", args, **extra) as ctx:
                rv = self.invoke(ctx)
        except BaseException as e:
            if interrupts.received() or interrupts.caused_by_interrupt(e):
                return interrupts.outcome()
            if isinstance(e, _NO_ARGS_IS_HELP):  # bare group: show help, like click does
                click.echo(e.ctx.get_help() if e.ctx else str(e))
                return 0, None
            if isinstance(e, click.exceptions.Exit):
                return e.exit_code, None
            if isinstance(e, click.UsageError):
                return 2, e.format_message()
            if isinstance(e, click.exceptions.Abort):
                return 1, "aborted"
            if isinstance(e, UserError):
                return 1, str(e)
            if isinstance(e, SystemExit):
                return (e.code if isinstance(e.code, int) else 0 if e.code is None else 1), None
            if not isinstance(e, Exception) or os.environ.get("MOBILENET_TINY_DEBUG"):
                raise
            return 1, (f"internal error: {type(e).__name__}: {one_line(e)[:300]} "
                       "(set MOBILENET_TINY_DEBUG=1 for the traceback)")
        if interrupts.received():  # the interrupt was swallowed somewhere, yet the command completed
            code, _ = interrupts.outcome()
            return code, "interrupted; the command had completed all the same"
        return (rv if isinstance(rv, int) else 0), None


@click.group(cls=_Group)
@click.version_option(package_name="mobilenet-tiny")
def main():
    """From images to a microcontroller that classifies them: MobileNet, int8, C, firmware."""


# ---------------------------------------------------------------------------------------------- info
@main.command()
@click.option("--arch", default="v1", show_default=True, help="v1 (MobileNetV1) or v2 (MobileNetV2).")
@click.option("--alpha", type=float, default=None, help="Width multiplier [0.1, 1.4] (default 0.25 v1, 0.35 v2).")
@click.option("--input", "input_text", default="96x96x1", show_default=True, help="Input HxWxC, C = 1 or 3.")
@click.option("--classes", type=int, default=2, show_default=True, help="Number of classes.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of tables.")
def info(arch, alpha, input_text, classes, as_json):
    """Per-layer table (params, MACs), depthwise-separable savings and the int8 activation-memory bound.

    Parameter counts are exact and equal keras.applications; the papers round them (4.2 M, 0.5 M, 3.4 M).
    """
    from .models import build_model, parse_input_shape, DEFAULT_ALPHA
    from .models.stats import model_stats
    from .report_text import print_info

    shape = parse_input_shape(input_text)
    model = build_model(arch, shape, alpha, classes)
    stats = model_stats(model, arch=arch, alpha=alpha if alpha is not None else DEFAULT_ALPHA.get(arch),
                        num_classes=classes)
    if as_json:
        click.echo(json.dumps(stats.to_json(), indent=2))
    else:
        print_info(stats)


# ------------------------------------------------------------------------- firmware, flash, device I/O
# ----------------------------------------------------------------------------------------------- demo
@main.command()
@click.option("--out", "out_dir", default="runs/demo", show_default=True, help="Run directory (re-running continues it).")
@click.option("--board", default="qemu_m4", show_default=True, help="Emulated board: qemu_m4, qemu_m7, qemu_m55, qemu_rv32.")
@click.option("--epochs", type=int, default=8, show_default=True, help="Float training epochs.")
@click.option("--qat-epochs", type=int, default=2, show_default=True)
@click.option("--data", default=None, help="Data [builtin:shapes].")
@click.option("--limit", type=int, default=100, show_default=True, help="Images sent to the device.")
def demo(out_dir, board, epochs, qat_epochs, data, limit):
    """The whole pipeline on the built-in default: train → QAT → int8 → C → firmware → QEMU → serial test."""
    from .demo import run_demo

    interrupts.note_kept(f"{out_dir} keeps the steps that finished (run the demo again to continue)")
    summary = run_demo(out_dir, board_env=board, epochs=epochs, qat_epochs=qat_epochs, data=data, limit=limit,
                       log=lambda line: click.echo(line, err=True))
    click.echo("\n".join(["", "summary", *summary.lines]))
    if not summary.ok:
        raise UserError("the device's outputs differ from the host TFLM interpreter")


# ---------------------------------------------------------------------------------------------- train
def _train_default(name):
    from .train import TrainConfig

    return TrainConfig.__dataclass_fields__[name].default


@main.command()
@click.option("--data", default=None, help="Image folder (one sub-folder per class) or builtin:NAME [builtin:shapes].")
@click.option("--arch", default="v1", show_default=True, help="v1 or v2.")
@click.option("--alpha", type=float, default=None, help="Width multiplier [0.1, 1.4] (default 0.25 v1, 0.35 v2).")
@click.option("--input", "input_text", default=None,
              help="Model input HxW or HxWxC [96x96, RGB when the data is colour, else gray].")
@click.option("--epochs", type=int, default=None, help="Float training epochs, at most [40]; with --resume: extend to N.")
@click.option("--qat-epochs", type=int, default=None, help="Quantization-aware epochs (0: float only) [5]; with --resume: extend.")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=3e-3, show_default=True, help="Float peak learning rate (QAT: lr/10).")
@click.option("--qat-lr", type=float, default=None, help="QAT learning rate [lr/10].")
@click.option("--lr-scaling", type=click.Choice(["none", "linear"]), default="none", show_default=True,
              help="linear: both learning rates × batch-size / 32 (for large global batches).")
@click.option("--lr-schedule", type=click.Choice(["cosine", "step", "constant"]), default="constant", show_default=True,
              help="After the warm-up: constant, cosine decay to 0, or step (×0.1 at 50 % and 75 %).")
@click.option("--warmup-epochs", type=int, default=0, show_default=True, help="Linear learning-rate warm-up.")
@click.option("--patience", type=int, default=10, show_default=True,
              help="Stop a phase after this many epochs without a better validation accuracy (0: never); "
                   "the best epoch is restored either way.")
@click.option("--val-split", type=float, default=0.2, show_default=True, help="Validation fraction (0: none).")
@click.option("--val", "val_dir", default=None, help="Validation folder instead of a split.")
@click.option("--test-split", type=float, default=0.0, show_default=True,
              help="Test fraction, held out and scored once, at the end.")
@click.option("--class-weight", type=click.Choice(["none", "balanced"]), default="none", show_default=True,
              help="balanced: weight each class by 1 / its share of the training images.")
@click.option("--augment", type=click.Choice(["none", "light", "strong"]), default="light", show_default=True)
@click.option("--no-flip", is_flag=True, help="No horizontal flips (digits, text, anything with a handedness).")
@click.option("--dropout", type=float, default=0.1, show_default=True, help="Dropout before the classifier.")
@click.option("--weights", default=None, help="imagenet (keras.applications, same α) or PATH.h5 of such weights.")
@click.option("--freeze-base-epochs", type=int, default=0, show_default=True,
              help="With --weights: train only the classifier for the first N epochs.")
@click.option("--skip-bad-images", is_flag=True, help="Leave unreadable image files out (they are listed).")
@click.option("--input-pipeline", "pipeline", type=click.Choice(["auto", "memory", "stream"]), default="auto",
              show_default=True, help="Decoded images held in memory, or streamed from the files or --cache "
              "(auto: stream folders over 256 MB decoded). The batches are the same either way.")
@click.option("--cache", "cache_dir", default=None,
              help="Folder for decoded, resized images: written once, reused by later epochs and runs.")
@click.option("--strategy", type=click.Choice(["auto", "one-device", "mirrored", "multi-worker"]), default="auto",
              show_default=True, help="tf.distribute strategy (multi-worker: cluster from TF_CONFIG); "
              "--batch-size is the global batch.")
@click.option("--benchmark-input", is_flag=True, help="Only measure the input pipeline's images/s (no training).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_dir", default="runs/latest", show_default=True, help="Run directory.")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last completed epoch.")
@click.option("--fit-board", default=None, help="α and input from `fit --board ENV`'s pick (--input's channels).")
def train(data, arch, alpha, input_text, epochs, qat_epochs, batch_size, lr, qat_lr, lr_scaling, lr_schedule,
          warmup_epochs, patience, val_split, val_dir, test_split, class_weight, augment, no_flip, dropout, weights,
          freeze_base_epochs, skip_bad_images, pipeline, cache_dir, strategy, benchmark_input, seed, out_dir, resume,
          fit_board):
    """Train float, then fine-tune with quantization-aware training (tfmot)."""
    from .data import BUILTIN_DEFAULT
    from .train import TrainConfig, parse_input_size, train as run_training

    from .fileio import check_output_dir

    if not benchmark_input:
        check_output_dir(out_dir)
    if fit_board:
        from .fit import pick_for_training

        alpha, shape = pick_for_training(fit_board, arch, alpha, input_text, log=lambda line: click.echo(line, err=True))
        input_text = "x".join(map(str, shape))
    config = TrainConfig(arch=arch, alpha=alpha, input_shape=parse_input_size(input_text) if input_text else None,
                         data=data or BUILTIN_DEFAULT, val_split=val_split, val_dir=val_dir, test_split=test_split,
                         epochs=_train_default("epochs") if epochs is None else epochs,
                         qat_epochs=_train_default("qat_epochs") if qat_epochs is None else qat_epochs,
                         batch_size=batch_size, lr=lr, qat_lr=qat_lr, lr_scaling=lr_scaling, lr_schedule=lr_schedule,
                         warmup_epochs=warmup_epochs, patience=patience, class_weight=class_weight, augment=augment,
                         flip=not no_flip, dropout=dropout, weights=weights, freeze_base_epochs=freeze_base_epochs,
                         skip_bad_images=skip_bad_images, seed=seed)
    if benchmark_input:
        from .train import benchmark_input as run_benchmark

        r = run_benchmark(config, pipeline=pipeline, cache=cache_dir, log=lambda line: click.echo(line, err=True))
        h, w, c = r["input_shape"]
        click.echo(f"input pipeline: {r['images_per_second']:,.0f} images/s ({r['images']:,} images at {h}x{w}x{c}, "
                   f"batch {r['batch_size']}, augment {r['augment']}, {r['pipeline']}; {os.cpu_count()} cores)")
        return
    interrupts.note_kept(f"{out_dir} keeps its completed epochs (continue with --resume)")
    result = run_training(config, out_dir, resume=resume, log=lambda line: click.echo(line, err=True),
                          epochs=epochs if resume else None, qat_epochs=qat_epochs if resume else None,
                          pipeline=pipeline, cache=cache_dir, strategy=strategy)
    parts = [f"float val acc {result.float_val_accuracy:.4f}" if result.float_val_accuracy is not None else "",
             f"QAT val acc {result.qat_val_accuracy:.4f}" if result.qat_val_accuracy is not None else ""]
    if result.test:
        parts.append("test " + ", ".join(f"{p} {result.test[f'{p}_accuracy']:.4f}" for p in ("float", "qat")
                                         if f"{p}_accuracy" in result.test) + f" ({result.test['images']} images)")
    click.echo(f"trained {', '.join(p for p in parts if p) or 'without validation'} in {result.seconds:.0f} s "
               f"→ {result.run_dir}")


# ------------------------------------------------------------------------------------------------ fit
@main.command("fit")
@click.option("--board", "board_env", required=True, help="PlatformIO env whose RAM and flash budget to fit.")
@click.option("--arch", default="v1", show_default=True, help="v1 or v2.")
@click.option("--input", "input_text", default=None,
              help="Model input HxWxC (only α varies) [resolutions 64 to 224, gray].")
@click.option("--classes", type=int, default=2, show_default=True, help="Number of classes.")
@click.option("--latency-ms", type=float, default=None, help="Also fit this latency (estimated).")
@click.option("--clock-mhz", type=float, default=None, help="CPU clock of the latency estimate [the board's].")
@click.option("--memory", type=click.Choice(["min", "balanced", "fast"]), default="balanced", show_default=True,
              help="The compiler's memory mode the candidates are compiled with.")
@click.option("--ram-bytes", type=int, default=None, help="A RAM budget below the board's (what the application leaves).")
@click.option("--flash-bytes", type=int, default=None, help="A flash budget below the board's.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def fit_cmd(board_env, arch, input_text, classes, latency_ms, clock_mhz, memory, ram_bytes, flash_bytes, as_json):
    """Which MobileNets fit a board, before training: candidates over α and resolution (random int8
    weights), compiled, with MACs, RAM (all included), flash and estimated latency; the largest that fits is
    marked (`train --fit-board` takes it)."""
    from .fit import fit, table_lines
    from .models import parse_input_shape

    result = fit(board_env, arch, parse_input_shape(input_text) if input_text else None, classes, latency_ms,
                 clock_mhz, memory, ram_bytes=ram_bytes, flash_bytes=flash_bytes,
                 log=lambda line: click.echo(line, err=True))
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    for line in table_lines(result):
        click.echo(line)


# -------------------------------------------------------------------------------------------- convert
_SPLIT_OPTION = dict(type=click.Choice(["train", "val", "test", "all"]), default=None,
                     help="Which of a run's recorded splits [val].")


@main.command()
@click.argument("source")
@click.option("--out", "out_dir", default=None, help="Output directory [the run dir, or the model's folder].")
@click.option("--data", default=None, help="Data for calibration and the report [a run's own recorded data].")
@click.option("--split", **_SPLIT_OPTION)
@click.option("--val-split", type=float, default=None, help="Not a run: validation fraction of --data [0.2].")
@click.option("--val", "val_dir", default=None, help="Not a run: validation folder.")
@click.option("--seed", type=int, default=None, help="Not a run: split seed [0].")
@click.option("--name", default="model", show_default=True, help="C name: NAME.tflite, NAME_data.h/.cc, NAME_* macros.")
@click.option("--arena-limit", type=int, default=None, help="Fail unless TFLM fits its arena in this many bytes.")
@click.option("--compile", "compile_c", is_flag=True, help="Also write the compiled-C runtime (NAME.h/NAME.c).")
@click.option("--allow-float", is_flag=True, help="A run whose QAT phase is unfinished: quantize its float model.")
@click.option("--no-report", is_flag=True, help="Skip the accuracy report.")
def convert(source, out_dir, data, split, val_split, val_dir, seed, name, arena_limit, compile_c, allow_float,
            no_report):
    """SOURCE (run dir, .h5/.keras, SavedModel or .tflite) → full-int8 .tflite, C array and report."""
    from .convert.pipeline import convert_model

    r = convert_model(source, out_dir, data=data, split=split, val_split=val_split, val_dir=val_dir, seed=seed,
                      name=name, arena_limit=arena_limit, compile_c=compile_c, report=not no_report,
                      allow_float=allow_float, log=lambda line: click.echo(line, err=True))
    for f in r.files:
        click.echo(f"wrote {f}")
    if r.report:
        acc, cmp = r.report["accuracy"], r.report["tflm_vs_litert_reference"]
        click.echo(f"judged on {r.report['images']}")
        click.echo("accuracy: " + ", ".join(f"{k} {v:.4f}" for k, v in acc.items()))
        if r.report.get("test"):
            t = r.report["test"]
            click.echo(f"test split ({t['count']} images, reported apart): "
                       + ", ".join(f"{k} {v:.4f}" for k, v in t["accuracy"].items()))
        if "unavailable" in cmp:
            click.echo(f"TFLM vs LiteRT reference: LiteRT unavailable for this model ({cmp['unavailable']})")
        else:
            click.echo(f"TFLM vs LiteRT reference: {cmp['inputs_differing']}/{cmp['inputs']} inputs differ, "
                       f"max {cmp['max_abs_difference']} units, class agreement {cmp['class_agreement'] * 100:.2f} %")
    click.echo(f"model {len(r.model_bytes):,} bytes, TFLM arena {r.arena_bytes:,} bytes (with margin)")


# ------------------------------------------------------------------------------------------- evaluate
@main.command()
@click.argument("model_path", metavar="RUN_DIR|MODEL.tflite")
@click.option("--data", default=None, help="Image folder or builtin:NAME [a run's own recorded data].")
@click.option("--split", **_SPLIT_OPTION)
@click.option("--runtime", type=click.Choice(["tflm", "litert"]), default="tflm", show_default=True)
@click.option("--limit", type=int, default=None, help="A stratified, seeded sample of at most N images.")
@click.option("--val-split", type=float, default=0.2, show_default=True, help="Not a run: builtin data's split.")
@click.option("--seed", type=int, default=None, help="Sample seed; not a run: builtin data's seed [0].")
@click.option("--json", "as_json", is_flag=True)
def evaluate(model_path, data, split, runtime, limit, val_split, seed, as_json):
    """Accuracy, per-class precision/recall/F1 and confusion matrix of an int8 model on a host runtime."""
    from .evaluate import evaluate_tflite

    r = evaluate_tflite(model_path, data, split=split, runtime=runtime, limit=limit, val_split=val_split, seed=seed)
    if as_json:
        click.echo(json.dumps(r.to_json(), indent=2))
        return
    from .report_text import print_confusion, print_per_class

    click.echo(f"{r.runtime}: accuracy {r.accuracy:.4f} on {r.description}")
    print_per_class(r.per_class)
    print_confusion(r.confusion, r.labels)


# -------------------------------------------------------------------------------------------- predict
@main.command()
@click.argument("images", nargs=-1, required=True, metavar="IMAGE...")
@click.option("--model", "model_path", required=True, help="A run directory or MODEL.tflite.")
@click.option("--runtime", type=click.Choice(["tflm", "compiled", "litert"]), default="tflm", show_default=True,
              help="Host runtime (ignored with --port).")
@click.option("--port", default=None, help="Run on the device at this serial port / socket:// URL instead.")
@click.option("--top", type=int, default=3, show_default=True, help="How many classes to list per image.")
@click.option("--json", "as_json", is_flag=True)
def predict(images, model_path, runtime, port, top, as_json):
    """The top classes of each image, with probabilities, from the int8 model on the host or a device."""
    from .predict import predict_images

    results = predict_images(list(images), model_path, runtime=runtime, port=port, top=top)
    if as_json:
        click.echo(json.dumps([{"image": r.image, "top": [{"label": label, "probability": p} for label, p in r.top]}
                               for r in results], indent=2))
        return
    for r in results:
        click.echo(r.line())


# ---------------------------------------------------------------------------------------------- split
@main.group()
def split():
    """A training run's recorded splits (splits.json)."""


@split.command("export")
@click.argument("run_dir", metavar="RUN")
@click.option("--split", "which", type=click.Choice(["train", "val", "test"]), default="val", show_default=True)
@click.option("-o", "--out", "out_dir", required=True, help="New folder: one sub-folder per class.")
def split_export(run_dir, which, out_dir):
    """Write a run's split as class folders (the original files; generated sets as PNG)."""
    from .data.run_splits import export_split

    count, path = export_split(run_dir, which, out_dir)
    click.echo(f"wrote {count} images of the {which} split to {path}")


# -------------------------------------------------------------------------------------------- dataset
@main.group()
def dataset():
    """Build a training set from a public data set on disk."""


@dataset.command("vww")
@click.option("--coco", "coco_dir", required=True,
              help="A COCO 2014 or 2017 download: annotations/instances_*.json and the image folders.")
@click.option("-o", "--out", "out_dir", required=True, help="New folder: train/ and val/, each person/ and no_person/.")
@click.option("--min-area", type=float, default=0.005, show_default=True,
              help="Person if a person annotation covers at least this share of the image.")
@click.option("--area", type=click.Choice(["box", "segment"]), default="box", show_default=True,
              help="Measure a person by its box (MLPerf Tiny's data) or its mask (the tensorflow/models builder).")
@click.option("--year", type=click.Choice(["2014", "2017"]), default=None, help="Which COCO [the one in --coco].")
@click.option("--minival-ids", default=None,
              help="COCO 2014: the minival id list (mscoco_minival_ids.txt) that is the paper's validation split.")
@click.option("--limit", type=int, default=None, help="A stratified, seeded sample of at most N images in all.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the --limit sample.")
@click.option("--copy", is_flag=True, help="Copy the image files instead of hard-linking them.")
def dataset_vww(coco_dir, out_dir, min_area, area, year, minival_ids, limit, seed, copy):
    """Visual Wake Words (Chowdhery et al., MLPerf Tiny): person / no_person folders from COCO."""
    from .data.vww import build_vww

    build_vww(coco_dir, out_dir, min_area=min_area, area=area, year=year, minival_ids=minival_ids, limit=limit,
              seed=seed, copy=copy, log=click.echo)


# -------------------------------------------------------------------------------------------- compile
@main.command("compile")
@click.argument("model_path", metavar="MODEL.tflite|RUN_DIR")
@click.option("-o", "--out", "out_dir", required=True, help="Directory for <name>.h and <name>.c.")
@click.option("--name", default="model", show_default=True, help="C identifier prefix of the generated code.")
@click.option("--memory", type=click.Choice(["min", "balanced", "fast"]), default="balanced", show_default=True,
              help="min: the smallest arena; balanced: the smallest within 10 % more instructions than "
                   "layer-by-layer; fast: layer by layer (in place where free).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def compile_cmd(model_path, out_dir, name, memory, as_json):
    """Compile an int8 .tflite to C99 calling the mtk_kernels library (bit-exact with TFLM).

    Labels come from labels.json / labels.txt next to the model. Prints the arena (one static buffer),
    its lower bound, MACs and the constant bytes that go to flash, and the schedule the memory mode chose
    (each schedule's peak and lower bound with --json); writes NAME_memory.png, the bytes live per step.
    """
    from .compiler import compile_model
    from .model_facts import load_model_facts

    r = compile_model(load_model_facts(model_path), out_dir, name=name, memory=memory, chart=True)
    facts = {"header": str(r.header_path), "source": str(r.source_path), "arena_bytes": r.arena_bytes,
             "lower_bound_bytes": r.lower_bound_bytes, "macs": r.macs, "weight_bytes": r.weight_bytes,
             "ops": r.ops, "input_shape": list(r.input_shape), "output_size": r.output_size,
             "memory": r.memory_report()}
    if as_json:
        click.echo(json.dumps(facts, indent=2))
        return
    click.echo(f"wrote {r.header_path}, {r.source_path} and {r.chart_path}")
    click.echo(f"arena {r.arena_bytes:,} B (lower bound {r.lower_bound_bytes:,} B), {r.macs:,} MACs, "
               f"{r.weight_bytes:,} B of constants, {len(r.ops)} ops: {', '.join(sorted(set(r.ops)))}")
    click.echo(r.memory.summary())


@main.group()
def export():
    """Export a model for another build system (an Arduino library)."""


@export.command("arduino")
@click.argument("model_path", metavar="RUN|MODEL")
@click.option("-o", "--out", "out_dir", required=True, help="Library folder to write (e.g. ~/Arduino/libraries/NAME).")
@click.option("--name", default="mobilenet_tiny_model", show_default=True,
              help="Library, header and C prefix: a lower-case C identifier.")
@click.option("--runtime", type=click.Choice(["compiled", "tflm"]), default="compiled", show_default=True,
              help="compiled: generated C + this project's kernels; tflm: the .tflite for TensorFlow Lite Micro.")
@click.option("--image", "image_path", default=None, help="The example's sample frame [a generated image].")
def export_arduino(model_path, out_dir, name, runtime, image_path):
    """An Arduino library (Arduino IDE or PlatformIO lib/): library.properties, the model and its runtime in
    src/, a header with labels and shapes, and an example sketch that classifies a camera-shaped frame."""
    from .export.arduino import export_arduino as run_export

    lib = run_export(model_path, out_dir, name=name, runtime=runtime, image=image_path)
    click.echo(f"wrote the Arduino library {lib.name} ({lib.runtime} runtime) to {lib.path}")
    click.echo(f"header {lib.header.relative_to(lib.path)}, example {lib.example.relative_to(lib.path)}")


@main.group()
def firmware():
    """Build the PlatformIO firmware with a model (qemu_* boards build offline)."""


@firmware.command("build")
@click.option("--board", required=True, help="PlatformIO env: qemu_m4, qemu_m7, qemu_m55, qemu_rv32, esp32dev, "
              "esp32s3, esp32c3, esp32c6, nano33ble.")
@click.option("--model", "model_path", required=True, help="MODEL.tflite or a run directory with model.tflite.")
@click.option("--runtime", type=click.Choice(["tflm", "compiled"]), default=None,
              help="Inference engine (default: compiled on qemu_*, tflm on real boards).")
@click.option("--kernels", type=click.Choice(["reference", "cmsis-nn"]), default=None,
              help="TFLM's kernels, from the TFLM tree (`tflm-tree`) [reference on qemu_*; the registry's on real boards].")
@click.option("--arena-bytes", type=int, default=None, help="TFLM arena size [measured on the host, plus 1 KiB].")
@click.option("--out", "out_dir", default=None, help="Project copy to build in [build/firmware/BOARD].")
def firmware_build(board, model_path, runtime, kernels, arena_bytes, out_dir):
    """Copy firmware/, write the model's C files into it and run `pio run -e BOARD`; prints flash/RAM use."""
    from .device.firmware_build import build_firmware

    result = build_firmware(board, model_path, runtime=runtime, out_dir=out_dir, log=click.echo, kernels=kernels,
                            arena_bytes=arena_bytes)
    click.echo(result.summary())


@main.command("tflm-tree")
@click.option("--from", "sources", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Local git directory holding tflite-micro or a dependency (repeat) [the fetched snapshots in "
                   "/work/.mirror if present, else GitHub].")
@click.option("--out", "out_dir", default=None, help="Trees folder [~/.cache/mobilenet-tiny/tflm/tflite-micro-COMMIT].")
@click.option("--force", is_flag=True, help="Make the trees again even if they exist.")
def tflm_tree(sources, out_dir, force):
    """TFLM's C++ source (reference and CMSIS-NN kernel trees) at the pinned tflite-micro commit, made by its
    create_tflm_tree.py with the dependency versions its download scripts name, in a cache outside the repo."""
    from pathlib import Path

    from .tflm_tree import build_trees

    trees = build_trees([Path(s) for s in sources] or None, out_dir, force, log=click.echo)
    for kernels in ("reference", "cmsis-nn"):
        click.echo(f"{kernels}: {trees.tree(kernels)}")


@main.command()
@click.option("--board", required=True, help="PlatformIO env of the board.")
@click.option("--port", default=None, help="Serial port (real boards) or TCP port for QEMU's UART [free port].")
@click.option("--project", "project_dir", default=None, help="Firmware project built by `firmware build` [build/firmware/BOARD].")
@click.option("--background", is_flag=True, help="QEMU boards: keep the emulator running after this command returns.")
@click.option("--stop", "stop_it", is_flag=True, help="QEMU boards: stop the emulator --background started.")
@click.option("--time-limit", type=float, default=3600, show_default=True, help="QEMU boards: stop after this many seconds.")
def flash(board, port, project_dir, background, stop_it, time_limit):
    """Upload to a real board, or boot a QEMU board and print the socket:// URL of its serial port."""
    from .device import flash as flashing
    from .device.link import check_port

    if port is not None:
        check_port(port)
    if stop_it:
        flashing.stop(board, out=click.echo)
    else:
        if not background:
            interrupts.note_kept("the emulator was stopped")
        flashing.flash(board, port=port, project_dir=project_dir, background=background, time_limit=time_limit,
                       out=click.echo)


_BAUD_HELP = "Serial rate of a real board's port [--board's rate from the board table, else 115200]."
_BOARD_HELP = "The board on --port (PlatformIO env): sets the default --baud."


@main.command()
@click.option("--port", required=True, help="Serial port or socket://HOST:PORT.")
@click.option("--duration", type=float, default=None, help="Stop after this many seconds [run until Ctrl-C].")
@click.option("--no-hello", is_flag=True, help="Only listen; do not ask the device for its hello first.")
@click.option("--board", "board_env", default=None, help=_BOARD_HELP)
@click.option("--baud", type=int, default=None, help=_BAUD_HELP)
def monitor(port, duration, no_hello, board_env, baud):
    """Print the device's protocol messages decoded, and its text output (e.g. the boot banner)."""
    from .device.board import serial_baud
    from .device.monitor import monitor as run_monitor

    baudrate = serial_baud(baud, board_env)
    run_monitor(port, duration=duration, say_hello=not no_hello, out=click.echo, baudrate=baudrate)


@main.command("serial-test")
@click.option("--port", required=True, help="Serial port or socket://HOST:PORT of a running board.")
@click.option("--model", "model_path", required=True, help="The .tflite the device was built with, or its run dir.")
@click.option("--data", default=None, help="Image folder or builtin:NAME [a run's own recorded data].")
@click.option("--split", **_SPLIT_OPTION)
@click.option("--limit", type=int, default=None, help="Send a stratified, seeded sample of at most N images.")
@click.option("--seed", type=int, default=None, help="Seed of the --limit sample [the run's].")
@click.option("--timeout", type=float, default=30, show_default=True, help="Seconds to wait for each reply.")
@click.option("--board", "board_env", default=None, help=_BOARD_HELP)
@click.option("--baud", type=int, default=None, help=_BAUD_HELP)
def serial_test(port, model_path, data, split, limit, seed, timeout, board_env, baud):
    """Infer the images on the device (a run's validation split by default) and compare each int8 output
    byte for byte with the host TFLM interpreter. Exit status 1 on any mismatch."""
    from .device.board import serial_baud
    from .device.serial_test import serial_test as run_serial_test

    report = run_serial_test(port, model_path, data=data, split=split, limit=limit, seed=seed, timeout=timeout,
                             baudrate=serial_baud(baud, board_env), log=lambda line: click.echo(line, err=True))
    for line in report.summary_lines():
        click.echo(line)
    if not report.ok:
        raise UserError(f"{len(report.mismatches)} of {report.count} device outputs differ from host TFLM")


@main.command()
@click.option("--board", default="qemu_m4", show_default=True,
              help="Emulated board to count instructions on: qemu_m4, qemu_m7, qemu_m55, qemu_rv32.")
@click.option("--model", "model_path", required=True, help="MODEL.tflite or a run directory.")
@click.option("--runtime", "runtimes", default="compiled", show_default=True,
              help="Comma-separated: compiled (DSP path; Helium on the M55), compiled-dsp (no Helium), "
                   "compiled-portable, tflm (reference kernels), tflm-cmsis-nn.")
@click.option("--runs", type=int, default=3, show_default=True, help="Inferences to time (seeded random inputs).")
@click.option("--profile", is_flag=True, help="Also instructions per layer (first input).")
@click.option("--opt", default="-O2", show_default=True, type=click.Choice(["-O2", "-Os", "-O3", "-O0"]),
              help="Optimisation of the runtime and model code (TFLM's library is always -O2).")
@click.option("--memory", default="balanced", show_default=True, type=click.Choice(["min", "balanced", "fast"]),
              help="The compiled runtime's memory mode (see `compile`).")
@click.option("--out", "out_dir", default=None, help="Keep the benchmark images in this folder [a temporary one].")
@click.option("--cycles", is_flag=True, help="Also estimated cycles from QEMU's executed instruction stream: "
              "Cortex-M4 timings on qemu_m4 and qemu_m7, beats on qemu_m55 (an MVE instruction 2, a gather or scatter 1 a lane).")
@click.option("--clock-mhz", type=float, default=None, help="Clock for the ms figures [the board's].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
def bench(board, model_path, runtimes, runs, profile, opt, memory, out_dir, cycles, clock_mhz, as_json):
    """Instructions per inference and per MAC, arena, RAM and flash of a model on a QEMU board, for one or
    several runtimes side by side (ratios to the first); with --cycles estimated cycles beside them."""
    from .device.bench import compare

    result = compare(board, model_path, [r for r in runtimes.split(",") if r.strip()], runs=runs, profile=profile,
                     opt=opt, memory=memory, workdir=out_dir, cycles=cycles, clock_mhz=clock_mhz,
                     log=(lambda *_: None) if as_json else (lambda line: click.echo(line, err=True)))
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    for line in result.table_lines() + result.profile_lines():
        click.echo(line)


if __name__ == "__main__":
    main()
