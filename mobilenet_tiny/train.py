"""Float training, then quantization-aware fine-tuning (tfmot), with per-epoch checkpoints and resume.

Float first and QAT second (at a lower learning rate) is what measured best here: QAT from scratch leaves
activation ranges near tfmot's initial [-6, 6] and MobileNetV2 barely learns (shared/notes/tensorflow-qat.md).
Each phase follows a learning-rate schedule (cosine decay after a linear warm-up by default, or step decay,
or constant), keeps the epoch with the best validation accuracy (ties: lower validation loss) and restores
it at the end, and with --patience stops once that many epochs have not improved on it.

A run directory holds everything: config.json (the arguments and the labels), splits.json and labels.txt
(the train / validation / test images with content hashes: data/run_splits.py), checkpoints/ (weights,
optimizer and dropout-generator state after every epoch; the last two and each phase's best are kept),
history.json and training_curve.png (rewritten after every epoch), float_model.h5 (plain Keras, the best
float epoch) and qat_model.h5 (the best QAT epoch; load it inside `tfmot.quantization.keras.quantize_scope()`),
which `convert` turns into int8, and test.json when there is a test split (scored once, at the end).

Determinism: the same seed gives the same weights and the same .tflite bytes on CPU, and a resumed run
equals one that was never stopped. The switches are `keras.utils.set_random_seed(seed)`,
`tf.config.experimental.enable_op_determinism()`, stateless seeded augmentation, one tf.data pipeline per
epoch seeded from (seed, phase, epoch), a learning rate that is a function of the optimizer's step count,
dropout drawing from a checkpointed tf.random.Generator reseeded per phase, and early-stopping state
derived from the recorded history rather than kept in memory.
"""
import contextlib
import json
import signal
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import UserError
from .fileio import atomic_path, atomic_write

PHASES = ("float", "qat")
BN_MOMENTUM = 0.9
DEFAULT_INPUT_SIZE = (96, 96)
LR_SCHEDULES = ("cosine", "step", "constant")
CLASS_WEIGHTS = ("none", "balanced")
CHECKPOINTS_KEPT = 2  # the last epochs of a phase kept besides its best one

# What a run recorded before these options existed did: resuming it must not change its course.
_LEGACY = {"lr_schedule": "constant", "warmup_epochs": 0, "patience": 0, "augment": "light",
           "class_weight": "none", "flip": True, "test_split": 0.0, "weights": None, "freeze_base_epochs": 0,
           "skip_bad_images": False, "dropout": 0.1, "extensions": []}


@dataclass
class TrainConfig:
    arch: str = "v1"
    alpha: float | None = None  # None: the architecture's default (0.25 for v1, 0.35 for v2)
    input_shape: tuple | None = None  # (H, W, C); None or C None: 96×96 and the data's own channels
    data: str = "builtin:shapes"
    val_split: float = 0.2
    val_dir: str | None = None
    test_split: float = 0.0
    epochs: int = 40
    qat_epochs: int = 5
    batch_size: int = 32
    lr: float = 3e-3
    qat_lr: float | None = None  # None: lr / 10
    lr_schedule: str = "constant"  # measured best at this budget (README, "Measured defaults")
    warmup_epochs: int = 0
    patience: int = 10  # 0: no early stopping
    class_weight: str = "none"
    augment: str = "light"
    flip: bool = True
    dropout: float = 0.1
    weights: str | None = None  # "imagenet" or a .h5 of keras.applications weights
    freeze_base_epochs: int = 0
    skip_bad_images: bool = False
    seed: int = 0
    labels: list[str] = field(default_factory=list)  # filled from the data
    extensions: list = field(default_factory=list)  # [{"phase", "from_epochs", "to_epochs"}] of --resume --epochs

    def check(self) -> "TrainConfig":
        from .data import AUGMENT_LEVELS
        from .data.split import check_val_split
        from .models import DEFAULT_ALPHA, check_arch
        from .models.common import check_alpha, check_dropout, check_input_shape

        check_arch(self.arch)
        self.alpha = check_alpha(self.alpha if self.alpha is not None else DEFAULT_ALPHA[self.arch])
        if self.input_shape is not None and self.input_shape[2] is not None:
            self.input_shape = check_input_shape(self.input_shape)
        for name in ("epochs", "qat_epochs", "warmup_epochs", "patience", "freeze_base_epochs"):
            if getattr(self, name) < 0:
                raise UserError(f"--{name.replace('_', '-')} must be ≥ 0")
        if self.epochs + self.qat_epochs == 0:
            raise UserError("nothing to train: --epochs and --qat-epochs are both 0")
        if self.batch_size < 1:
            raise UserError("--batch-size must be ≥ 1")
        if not self.lr > 0 or (self.qat_lr is not None and not self.qat_lr > 0):
            raise UserError("learning rates must be > 0")
        if self.lr_schedule not in LR_SCHEDULES:
            raise UserError(f"unknown --lr-schedule {self.lr_schedule!r}: choose one of {', '.join(LR_SCHEDULES)}")
        if self.class_weight not in CLASS_WEIGHTS:
            raise UserError(f"unknown --class-weight {self.class_weight!r}: choose one of {', '.join(CLASS_WEIGHTS)}")
        if self.augment not in AUGMENT_LEVELS:
            raise UserError(f"unknown --augment {self.augment!r}: choose one of {', '.join(AUGMENT_LEVELS)}")
        check_val_split(self.val_split)
        check_val_split(self.test_split, "test split")
        check_dropout(self.dropout)
        if self.freeze_base_epochs and not self.weights:
            raise UserError("--freeze-base-epochs needs --weights (a random backbone has nothing worth freezing)")
        if self.freeze_base_epochs > self.epochs:
            raise UserError(f"--freeze-base-epochs {self.freeze_base_epochs} is more than --epochs {self.epochs}")
        if self.weights and self.weights != "imagenet" and not Path(self.weights).is_file():
            raise UserError(f"--weights {self.weights}: no such file (give imagenet or a .h5 of "
                            "keras.applications weights)")
        return self

    @property
    def phase_epochs(self) -> dict:
        return {"float": self.epochs, "qat": self.qat_epochs}

    def phase_lr(self, phase: str) -> float:
        return self.lr if phase == "float" else (self.qat_lr or self.lr / 10)

    def to_json(self) -> dict:
        d = asdict(self)
        if self.input_shape is not None:
            d["input_shape"] = list(self.input_shape)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "TrainConfig":
        d = {**_LEGACY, **d}
        if d.get("input_shape") is not None:
            d["input_shape"] = tuple(d["input_shape"])
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class TrainResult:
    run_dir: Path
    labels: list[str]
    history: list[dict]
    float_val_accuracy: float | None
    qat_val_accuracy: float | None
    seconds: float
    best_epochs: dict = field(default_factory=dict)  # phase → epoch restored
    test: dict | None = None  # test split scores (once, at the end)


def parse_input_size(text: str) -> tuple:
    """'96x96' → (96, 96, None) (channels from the data), '96x96x3' → (96, 96, 3)."""
    from .models import parse_input_shape

    parts = text.lower().split("x")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        h, w, _ = parse_input_shape(f"{text}x1")
        return h, w, None
    return parse_input_shape(text)


# ------------------------------------------------------------------------------------------- run files
def _checkpoint_prefix(run_dir: Path, phase: str, epoch: int) -> Path:
    return run_dir / "checkpoints" / f"{phase}-{epoch:03d}"


def completed_epochs(run_dir: Path) -> dict:
    """Epochs whose checkpoint is complete, per phase (a checkpoint is complete once its .done marker exists;
    the marker is written last, so a run killed mid-save does not count that epoch)."""
    done = {"float": 0, "qat": 0}
    for marker in (Path(run_dir) / "checkpoints").glob("*.done"):
        phase, epoch = marker.stem.split("-")
        if phase in done:
            done[phase] = max(done[phase], int(epoch))
    return done


def _save_checkpoint(ckpt, run_dir: Path, phase: str, epoch: int, keep_epoch: int | None):
    """Write epoch `epoch`'s checkpoint, then drop the phase's older ones except `keep_epoch` (its best)."""
    prefix = _checkpoint_prefix(run_dir, phase, epoch)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    ckpt.write(str(prefix))
    atomic_write(prefix.with_suffix(".done"), "")
    for old in range(1, epoch - CHECKPOINTS_KEPT + 1):
        if old != keep_epoch:
            for f in prefix.parent.glob(f"{phase}-{old:03d}.*"):
                f.unlink()


def _clean_stale_files(run_dir: Path):
    """What a killed run leaves: temporaries of atomic writes (.NAME.*.tmp), checkpoint files and TF's
    temporary folders of an epoch whose .done marker was never written."""
    import shutil

    for tmp in run_dir.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)
    ckpt_dir = run_dir / "checkpoints"
    done = {m.stem for m in ckpt_dir.glob("*.done")}
    for f in ckpt_dir.glob("*"):
        if f.name.startswith(".") or f.name.split(".")[0] not in done:
            shutil.rmtree(f) if f.is_dir() else f.unlink(missing_ok=True)


def load_config(run_dir) -> TrainConfig:
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise UserError(f"{run_dir}: not a training run (no config.json)")
    try:
        return TrainConfig.from_json(json.loads(path.read_text()))
    except (ValueError, TypeError, KeyError) as e:
        raise UserError(f"{path}: unreadable run config ({e})") from None


def _save_keras(model, path: Path):
    import warnings

    # HDF5 on purpose: one portable file that any Keras 2 (and `convert`) loads; Keras calls it legacy.
    with atomic_path(path.with_suffix(".h5")) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model.save(str(tmp), save_format="h5", include_optimizer=False)


# ------------------------------------------------------------------------------------- phase bookkeeping
def best_epoch(history: list[dict], phase: str) -> int | None:
    """The phase's epoch with the highest validation accuracy (ties: the lower validation loss, then the
    earlier epoch); None without validation."""
    entries = [h for h in history if h["phase"] == phase and "val_accuracy" in h]
    if not entries:
        return None
    return min(entries, key=lambda h: (-h["val_accuracy"], h.get("val_loss", 0.0), h["epoch"]))["epoch"]


def _patience_start(config: TrainConfig, phase: str) -> int:
    """Early stopping counts from the best epoch, or from where --resume --epochs last extended the phase."""
    starts = [e["from_epochs"] for e in config.extensions if e["phase"] == phase]
    return max(starts, default=0)


def phase_status(config: TrainConfig, history: list[dict], phase: str, completed: int) -> dict:
    """completed / total epochs, the best epoch, and whether the phase is finished (all its epochs, or
    stopped early by --patience)."""
    total = config.phase_epochs[phase]
    best = best_epoch([h for h in history if h["epoch"] <= completed], phase)
    stopped = bool(config.patience and best is not None and completed < total
                   and completed - max(best, _patience_start(config, phase)) >= config.patience)
    return {"completed": completed, "total": total, "best_epoch": best if best is not None else (completed or None),
            "stopped_early": stopped, "finished": completed >= total or stopped}


def run_status(run_dir) -> dict:
    """Per phase: completed / total epochs, best epoch, stopped early, finished, and whether its model file
    is there. `convert` refuses a run whose QAT phase is unfinished."""
    run_dir = Path(run_dir)
    config = load_config(run_dir)
    history = _read_history(run_dir)
    done = completed_epochs(run_dir)
    status = {}
    for phase in PHASES:
        s = phase_status(config, history, phase, done[phase])
        s["model_file"] = (run_dir / f"{phase}_model.h5").is_file()
        status[phase] = s
    return status


# -------------------------------------------------------------------------------------- learning rate
def make_schedule(keras, tf, kind: str, base_lr: float, total_steps: int, warmup_steps: int):
    """The learning rate as a function of the optimizer's step count (so a restored optimizer resumes it
    exactly): linear warm-up, then cosine decay to 0, step decay (×0.1 at 50 % and 75 %), or constant."""

    class WarmupDecay(keras.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            step = tf.cast(step, tf.float32)
            total = float(max(total_steps, 1))
            warm = float(min(warmup_steps, max(total_steps - 1, 0)))
            if kind == "cosine":
                progress = tf.clip_by_value((step - warm) / max(total - warm, 1.0), 0.0, 1.0)
                decayed = 0.5 * base_lr * (1.0 + tf.cos(3.141592653589793 * progress))
            elif kind == "step":
                decayed = base_lr * tf.where(step < 0.5 * total, 1.0, tf.where(step < 0.75 * total, 0.1, 0.01))
            else:
                decayed = tf.constant(base_lr, tf.float32)
            if warm > 0:
                return tf.where(step < warm, base_lr * (step + 1.0) / warm, decayed)
            return decayed

        def get_config(self):
            return {"kind": kind, "base_lr": base_lr, "total_steps": total_steps, "warmup_steps": warmup_steps}

    return WarmupDecay()


# ---------------------------------------------------------------------------------------- interrupts
class _Interrupts:
    """Ctrl-C during training finishes the step under way, then stops; an epoch whose line was printed keeps
    its checkpoint (the flag is looked at only between steps and after the checkpoint is written). A second
    Ctrl-C stops at once."""

    def __init__(self, log):
        self.requested = False
        self.log = log
        self._previous = None

    def _handler(self, signum, frame):
        from . import interrupts

        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        interrupts.record(signum)  # the CLI then reports the interrupt, with what interrupts.note_kept says

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)

    def check(self):
        if self.requested:
            raise KeyboardInterrupt


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the message says what the run kept."""


def _kept(run_dir: Path) -> str:
    done = completed_epochs(run_dir)
    kept = " and ".join(f"{n} {phase} epoch{'s' if n != 1 else ''}" for phase, n in done.items() if n)
    return (f"the run in {run_dir} keeps {kept or 'no epoch yet'}: continue it with "
            f"`mobilenet-tiny train --out {run_dir} --resume`")


# ---------------------------------------------------------------------------------------------- train
def _resolve_input_size(config: TrainConfig) -> tuple:
    if config.input_shape is None:
        return (*DEFAULT_INPUT_SIZE, None)
    h, w, *c = config.input_shape
    return (h, w, c[0] if c else None)


def _load_run_data(config: TrainConfig, run_dir: Path, resume: bool, log):
    """The run's data: on resume the recorded splits (hash-checked), else listed, decoded and split."""
    from .data import TrainingData, load_training_data
    from .data.run_splits import load_split_images, read_run_splits
    from .progress import task_progress

    recorded = read_run_splits(run_dir) if resume else None
    if recorded is not None:
        from .data.run_splits import source_of

        parts = {}
        for name, items in recorded.splits.items():
            decoded = load_split_images(recorded, items)
            parts[name] = (source_of(items.source, recorded.labels, decoded.keys, decoded.y), decoded)
        return TrainingData(recorded.labels, tuple(recorded.input_shape), recorded.seed, parts,
                            [(s["file"], s["reason"]) for s in recorded.skipped], recorded.summary.get("conversions", {}))
    with contextlib.ExitStack() as stack:
        bars = {}

        def progress(done, total):  # one bar per folder decoded (the data, then a --val folder)
            if total not in bars:
                bars[total] = stack.enter_context(task_progress("decoding images", total, log))
            bars[total].update(done)

        return load_training_data(config.data, _resolve_input_size(config), val_split=config.val_split,
                                  val_dir=config.val_dir, test_split=config.test_split, seed=config.seed,
                                  skip_bad=config.skip_bad_images, progress=progress)


def _check_extension(run_dir: Path, epochs: int | None, qat_epochs: int | None):
    """Refuse, before anything is loaded or printed, an --epochs / --qat-epochs below what the run has."""
    done = completed_epochs(run_dir)
    for phase, new, flag in (("float", epochs, "--epochs"), ("qat", qat_epochs, "--qat-epochs")):
        if new is not None and new < done[phase]:
            raise UserError(f"the run already has {done[phase]} {phase} epochs: {flag} {new} cannot shorten it")


def _apply_extension(config: TrainConfig, run_dir: Path, epochs: int | None, qat_epochs: int | None, log) -> bool:
    """--resume --epochs N / --qat-epochs M on a run: grow its phases. Growing the float phase after QAT has
    started discards QAT (it fine-tuned the old float model) and redoes it. Returns whether anything grew."""
    _check_extension(run_dir, epochs, qat_epochs)
    done = completed_epochs(run_dir)
    grew = False
    for phase, new in (("float", epochs), ("qat", qat_epochs)):
        if new is None or new == config.phase_epochs[phase]:
            continue
        old = config.phase_epochs[phase]
        if new > old:
            config.extensions.append({"phase": phase, "from_epochs": done[phase], "to_epochs": new})
            (run_dir / "test.json").unlink(missing_ok=True)  # the models change: the test split is scored anew
            grew = True
        setattr(config, "epochs" if phase == "float" else "qat_epochs", new)
        log(f"{phase} phase: {old} → {new} epochs")
        if phase == "float" and new > old and done["qat"]:
            log("the QAT phase fine-tuned the old float model: it is discarded and redone after the float epochs")
            for f in (run_dir / "checkpoints").glob("qat-*"):
                f.unlink()
            (run_dir / "qat_model.h5").unlink(missing_ok=True)
            history = [h for h in _read_history(run_dir) if h["phase"] != "qat"]
            atomic_write(run_dir / "history.json", json.dumps(history, indent=2))
    return grew


def _dropout_generators(model) -> list:
    gens = []
    for layer in model.layers:
        inner = getattr(layer, "layer", layer)  # QAT wraps layers
        generator = getattr(getattr(inner, "_random_generator", None), "_generator", None)
        if generator is not None:
            gens.append(generator)
    return gens


def _seed_for(seed: int, phase: str, epoch: int = 0) -> int:
    return seed * 1000 + epoch + (500 if phase == "qat" else 0)


def train(config: TrainConfig, run_dir, *, resume: bool = False, log=None, epochs: int | None = None,
          qat_epochs: int | None = None, note_interrupts: bool = True) -> TrainResult:
    """Train float then QAT into `run_dir`; with resume=True continue a stopped run from its last epoch
    (`epochs` / `qat_epochs` then extend its phases). `note_interrupts`: after each epoch, tell the CLI's
    interrupt message which epochs the run keeps (the demo says it its own way)."""
    from .data import to_tf_dataset
    from .models import build_model
    from .progress import make_keras_progress
    from .tf_env import keras, tf

    run_dir = Path(run_dir)
    start_time = time.time()
    log = log or print
    if resume:
        config = load_config(run_dir)  # the run's own arguments win: a resumed run must not change course
        _check_extension(run_dir, epochs, qat_epochs)
        _clean_stale_files(run_dir)
    elif (run_dir / "config.json").exists():
        raise UserError(f"{run_dir} already holds a training run: pass --resume to continue it, or another --out")
    elif epochs is not None or qat_epochs is not None:
        raise UserError("epochs to extend by are for --resume")
    config.check()

    data = _load_run_data(config, run_dir, resume, log)
    if config.labels and config.labels != data.labels:
        raise UserError(f"the data's classes {data.labels} differ from the run's {config.labels}")
    config.labels = list(data.labels)
    config.input_shape = tuple(data.input_shape)
    train_x, train_y = data.x("train"), data.y("train")
    val_x, val_y = data.x("val"), data.y("val")
    if len(train_x) == 0:
        raise UserError("no training images left after the validation and test splits")
    if config.val_split > 0 and config.val_dir is None and len(val_x) == 0:
        raise UserError("no validation images: use a larger --val-split, --val DIR, or --val-split 0")
    for line in data.summary_lines():
        log(line)
    if resume:
        _apply_extension(config, run_dir, epochs, qat_epochs, log)
        config.check()
    reference = None
    if config.weights and completed_epochs(run_dir)["float"] == 0:
        # Before anything is written: a failed download or a wrong file leaves no half-made run behind.
        from .models.pretrained import nearest_size, reference_model

        reference = reference_model(config.arch, config.alpha, config.weights,
                                    nearest_size(config.arch, config.input_shape))
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(run_dir / "config.json", json.dumps(config.to_json(), indent=2))
    if not resume or not (run_dir / "splits.json").exists():
        from .data.run_splits import write_run_splits

        write_run_splits(run_dir, labels=data.labels, input_shape=data.input_shape, seed=config.seed,
                         parts=data.parts, skipped=data.skipped, summary=data.summary())

    history = _read_history(run_dir) if resume else []
    done = completed_epochs(run_dir) if resume else {"float": 0, "qat": 0}
    if resume and done["float"] + done["qat"] == 0:
        history = []

    # A fresh Keras state: layer and weight names (which the .h5 files hold) do not depend on what this
    # process built before, so a run trained in a long-lived process writes the bytes a fresh one would.
    keras.backend.clear_session()
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    has_val = len(val_x) > 0
    val_ds = to_tf_dataset(val_x, val_y, config.batch_size, training=False) if has_val else None
    steps = -(-len(train_x) // config.batch_size)
    class_weight = None
    if config.class_weight == "balanced":
        import numpy as np

        counts = np.bincount(train_y, minlength=len(config.labels))
        class_weight = {i: float(len(train_y) / (len(counts) * c)) if c else 0.0 for i, c in enumerate(counts)}

    model = build_model(config.arch, config.input_shape, config.alpha, len(config.labels), dropout=config.dropout,
                        bn_momentum=BN_MOMENTUM)
    result = TrainResult(run_dir, config.labels, history, None, None, 0.0)
    from . import interrupts as interrupts_module

    try:
        with _Interrupts(log) as interrupts:
            for phase in PHASES:
                total = config.phase_epochs[phase]
                if total == 0:
                    continue
                if phase == "qat":
                    from .tf_env import tfmot

                    model = tfmot().quantization.keras.quantize_model(model)
                # QAT fine-tunes for a few epochs: a cosine decay from its lower rate, no warm-up (constant stays).
                kind = config.lr_schedule if phase == "float" or config.lr_schedule == "constant" else "cosine"
                schedule = make_schedule(keras, tf, kind, config.phase_lr(phase), total * steps,
                                         config.warmup_epochs * steps if phase == "float" else 0)
                optimizer = keras.optimizers.Adam(schedule)
                generators = _dropout_generators(model)
                for i, generator in enumerate(generators):
                    generator.reset_from_seed(_seed_for(config.seed, phase) * 7 + i)
                ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer, dropout=generators)
                start = min(done[phase], total)
                frozen = None

                def compile_for(epoch):
                    """(Re)compile when the backbone is to be frozen or thawed (--freeze-base-epochs)."""
                    nonlocal frozen
                    want = phase == "float" and epoch < config.freeze_base_epochs
                    if want == frozen:
                        return
                    if frozen is not None or want:
                        from .models.pretrained import set_backbone_trainable

                        set_backbone_trainable(model, not want)
                    frozen = want
                    model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(),
                                  metrics=["accuracy"])

                # Slots for every variable that will ever train, before any is frozen: one checkpoint layout.
                optimizer.build(model.trainable_variables)
                compile_for(start)
                if start:
                    restored = ckpt.read(str(_checkpoint_prefix(run_dir, phase, start)))
                    try:
                        restored.assert_existing_objects_matched()
                    except AssertionError:  # a checkpoint written before dropout's generator was checkpointed
                        restored.assert_nontrivial_match()
                        log("note: this run's checkpoints predate dropout-state checkpoints: the resumed run will "
                            "not equal an unbroken one exactly")
                    log(f"resuming {phase} training after epoch {start}/{total}")
                elif phase == "float" and config.weights:
                    from .models.pretrained import load_pretrained_backbone

                    log(load_pretrained_backbone(model, config.arch, config.alpha, config.weights, reference))
                progress = make_keras_progress(phase, total, steps, log)
                guard = _GuardCallback(keras, interrupts)
                status = phase_status(config, history, phase, start)
                for epoch in range(start, total):
                    if status["finished"]:
                        break
                    compile_for(epoch)
                    # One pipeline per epoch, seeded by (seed, phase, epoch): resume sees the same batches.
                    train_ds = to_tf_dataset(train_x, train_y, config.batch_size, training=True,
                                             seed=_seed_for(config.seed, phase, epoch), augment=config.augment,
                                             flip=config.flip)
                    lr_now = float(schedule(optimizer.iterations))
                    fit = model.fit(train_ds, validation_data=val_ds, epochs=epoch + 1, initial_epoch=epoch, verbose=0,
                                    callbacks=[progress, guard], class_weight=class_weight)
                    history.append({"phase": phase, "epoch": epoch + 1,
                                    **{k: float(v[-1]) for k, v in fit.history.items()},
                                    "lr": lr_now, "first_batch_loss": guard.first_batch_loss})
                    status = phase_status(config, history, phase, epoch + 1)
                    _save_checkpoint(ckpt, run_dir, phase, epoch + 1, status["best_epoch"])
                    _write_history(run_dir, history)
                    if note_interrupts:  # what a Ctrl-C from now on leaves: said by the CLI's one line
                        interrupts_module.note_kept(_kept(run_dir))
                    interrupts.check()
                completed = completed_epochs(run_dir)[phase]
                status = phase_status(config, history, phase, completed)
                best = status["best_epoch"]
                if best and best != completed:
                    tf.train.Checkpoint(model=model).read(str(_checkpoint_prefix(run_dir, phase, best))).expect_partial()
                if status["stopped_early"] and start < completed:
                    log(f"{phase}: no better validation accuracy for {config.patience} epochs: stopped after "
                        f"epoch {completed}/{total}")
                entry = next((h for h in history if h["phase"] == phase and h["epoch"] == best), {})
                if has_val and best:
                    log(f"{phase}: best validation epoch {best} (val_acc {entry.get('val_accuracy', float('nan')):.4f})"
                        + (", restored" if best != completed else ""))
                result.best_epochs[phase] = best
                acc = entry.get("val_accuracy")
                if phase == "float":
                    result.float_val_accuracy = acc
                    if start < completed or not (run_dir / "float_model.h5").exists():
                        _save_keras(model, run_dir / "float_model.h5")
                else:
                    result.qat_val_accuracy = acc
                    if start < completed or not (run_dir / "qat_model.h5").exists():
                        _save_keras(model, run_dir / "qat_model.h5")
                interrupts.check()
    except KeyboardInterrupt:
        raise TrainingInterrupted(_kept(run_dir)) from None
    if config.qat_epochs == 0:
        (run_dir / "qat_model.h5").unlink(missing_ok=True)
    result.test = _score_test_split(run_dir, data, model, config, log)
    result.seconds = time.time() - start_time
    return result


def _GuardCallback(keras, interrupts):
    """Looks at Ctrl-C between steps, and records the first batch's loss (where training started from)."""

    class Guard(keras.callbacks.Callback):
        first_batch_loss = None

        def on_epoch_begin(self, epoch, logs=None):
            self.first_batch_loss = None

        def on_train_batch_end(self, batch, logs=None):
            if batch == 0 and logs and "loss" in logs:
                self.first_batch_loss = float(logs["loss"])
            interrupts.check()

        def on_test_batch_end(self, batch, logs=None):
            interrupts.check()

    return Guard()


def _score_test_split(run_dir: Path, data, model, config: TrainConfig, log) -> dict | None:
    """The test split, scored once at the end (float and QAT models), recorded in test.json."""
    test_x, test_y = data.x("test"), data.y("test")
    if not len(test_y):
        return None
    path = run_dir / "test.json"
    if path.exists():
        return json.loads(path.read_text())
    from .convert.report import keras_accuracy
    from .tf_env import keras, tfmot

    scores = {"images": int(len(test_y))}
    for phase in PHASES:
        model_path = run_dir / f"{phase}_model.h5"
        if model_path.exists():
            with tfmot().quantization.keras.quantize_scope():
                m = keras.models.load_model(str(model_path), compile=False)
            scores[f"{phase}_accuracy"] = keras_accuracy(m, test_x, test_y)
    atomic_write(path, json.dumps(scores, indent=2))
    log(f"test split ({len(test_y)} images, scored once, at the end): "
        + ", ".join(f"{p} {scores[f'{p}_accuracy']:.4f}" for p in PHASES if f"{p}_accuracy" in scores))
    return scores


def _read_history(run_dir: Path) -> list[dict]:
    path = run_dir / "history.json"
    return json.loads(path.read_text()) if path.exists() else []


def _write_history(run_dir: Path, history: list[dict]):
    done = completed_epochs(run_dir)
    # Only epochs that have a checkpoint are history: a resumed run re-does the others.
    history[:] = [h for h in history if h["epoch"] <= done[h["phase"]]]
    atomic_write(run_dir / "history.json", json.dumps(history, indent=2))
    plot_history(history, run_dir / "training_curve.png")


def plot_history(history: list[dict], path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    x = list(range(1, len(history) + 1))
    for ax, key in zip(axes, ("loss", "accuracy")):
        for prefix, style in (("", "-"), ("val_", "--")):
            ax.plot(x, [h.get(prefix + key, float("nan")) for h in history], style, marker="o",
                    label=(prefix + key).replace("_", " "))
        n_float = sum(1 for h in history if h["phase"] == "float")
        if 0 < n_float < len(history):
            ax.axvline(n_float + 0.5, color="gray", linewidth=1)
            ax.text(n_float + 0.6, ax.get_ylim()[1], "QAT", va="top", color="gray")
        ax.set_xlabel("epoch (float, then QAT)")
        ax.set_title(key)
        ax.legend()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
