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
LR_SCALINGS = ("none", "linear")
LR_REFERENCE_BATCH = 32  # --lr-scaling linear: --lr is the rate for a global batch of this size
CHECKPOINTS_KEPT = 2  # the last epochs of a phase kept besides its best one

# What a run recorded before these options existed did: resuming it must not change its course.
_LEGACY = {"lr_schedule": "constant", "warmup_epochs": 0, "patience": 0, "augment": "light",
           "class_weight": "none", "flip": True, "test_split": 0.0, "weights": None, "freeze_base_epochs": 0,
           "skip_bad_images": False, "dropout": 0.1, "extensions": [], "lr_scaling": "none"}


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
    lr_scaling: str = "none"  # linear: both rates × batch_size / LR_REFERENCE_BATCH (Goyal et al.)
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
        if self.lr_scaling not in LR_SCALINGS:
            raise UserError(f"unknown --lr-scaling {self.lr_scaling!r}: choose one of {', '.join(LR_SCALINGS)}")
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
        """The phase's peak rate; with --lr-scaling linear scaled by the global batch (the rule of Goyal et
        al., which TensorFlow's distributed-training guides follow: a k times larger batch takes k times
        fewer steps, each k times longer)."""
        scale = self.batch_size / LR_REFERENCE_BATCH if self.lr_scaling == "linear" else 1.0
        return scale * (self.lr if phase == "float" else (self.qat_lr or self.lr / 10))

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


def _kept(run_dir: Path, shown: Path | None = None) -> str:
    """`shown`: the run directory to name, when `run_dir` is a worker's private copy of its state."""
    done = completed_epochs(run_dir)
    kept = " and ".join(f"{n} {phase} epoch{'s' if n != 1 else ''}" for phase, n in done.items() if n)
    shown = shown or run_dir
    return (f"the run in {shown} keeps {kept or 'no epoch yet'}: continue it with "
            f"`mobilenet-tiny train --out {shown} --resume`")


# ---------------------------------------------------------------------------------------------- train
def _resolve_input_size(config: TrainConfig) -> tuple:
    if config.input_shape is None:
        return (*DEFAULT_INPUT_SIZE, None)
    h, w, *c = config.input_shape
    return (h, w, c[0] if c else None)


def _load_run_data(config: TrainConfig, run_dir: Path, resume: bool, log, pipeline: str = "auto", cache=None):
    """The run's data: on resume the recorded splits (hash-checked), else listed, decoded and split."""
    from .data import load_recorded_training_data, load_training_data
    from .data.run_splits import read_run_splits
    from .progress import task_progress

    recorded = read_run_splits(run_dir) if resume else None
    with contextlib.ExitStack() as stack:
        bars = {}

        def progress(done, total):  # one bar per folder decoded (the data, then a --val folder)
            if total not in bars:
                bars[total] = stack.enter_context(task_progress("decoding images", total, log))
            bars[total].update(done)

        if recorded is not None:
            return load_recorded_training_data(recorded, pipeline=pipeline, cache_dir=cache, progress=progress)
        return load_training_data(config.data, _resolve_input_size(config), val_split=config.val_split,
                                  val_dir=config.val_dir, test_split=config.test_split, seed=config.seed,
                                  skip_bad=config.skip_bad_images, progress=progress, pipeline=pipeline,
                                  cache_dir=cache)


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
          qat_epochs: int | None = None, note_interrupts: bool = True, pipeline: str = "auto", cache=None,
          strategy: str = "auto") -> TrainResult:
    """Train float then QAT into `run_dir`; with resume=True continue a stopped run from its last epoch
    (`epochs` / `qat_epochs` then extend its phases). `note_interrupts`: after each epoch, tell the CLI's
    interrupt message which epochs the run keeps (the demo says it its own way).

    `pipeline` and `cache`: how the images reach the model (data.load_training_data); `strategy`: the
    tf.distribute strategy (distribute.py). None of them changes what is trained: the same seed gives the
    same batches in memory or streamed, and the same global batches on one replica or several."""
    from .distribute import make_distribution

    dist = make_distribution(strategy)  # first: a multi-worker strategy must exist before TensorFlow runs
    options = dict(resume=resume, log=log, epochs=epochs, qat_epochs=qat_epochs, note_interrupts=note_interrupts,
                   pipeline=pipeline, cache=cache)
    if dist.is_chief:
        return _train(config, Path(run_dir), Path(run_dir), dist, **options)
    # TensorFlow's multi-worker recipe: every worker saves (saving is a collective operation), the chief into
    # the run directory, the others into a temporary directory deleted when they end; all restore the
    # chief's checkpoints. Nothing of this worker's lands in --out.
    import shutil
    import tempfile

    scratch = Path(tempfile.mkdtemp(prefix=f"mobilenet-tiny-worker-{dist.worker_index}-"))
    try:
        if resume:
            _copy_chief_run(Path(run_dir), scratch / "run")
        return _train(config, scratch / "run", Path(run_dir), dist, **options)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _copy_chief_run(chief_dir: Path, to: Path):
    """What a resuming worker restores from: the chief's run directory (a shared folder or a copy of it), as
    it is now. Files the chief removes meanwhile (the stale files of an interrupted epoch) are left out."""
    import shutil

    if not (chief_dir / "config.json").is_file():
        raise UserError(f"{chief_dir}: not a training run (no config.json): a worker that is not the chief resumes "
                        "from the chief's run directory, so --out must be that folder (shared) or a copy of it")

    def copy_if_there(src, dst):
        try:
            shutil.copy2(src, dst)
        except FileNotFoundError:
            pass

    shutil.copytree(chief_dir, to, copy_function=copy_if_there)


def _train(config: TrainConfig, run_dir: Path, chief_dir: Path, dist, *, resume, log, epochs, qat_epochs,
           note_interrupts, pipeline, cache) -> TrainResult:
    """train() in `run_dir`: the run directory itself, or for a worker that is not the chief its private one
    (`chief_dir` is then the run's)."""
    from .data import to_tf_dataset
    from .progress import make_keras_progress
    from .tf_env import keras, tf

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

    data = _load_run_data(config, run_dir, resume, log, pipeline, cache)
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
    dist.per_replica_batch(config.batch_size)
    for line in data.summary_lines():
        log(line)
    if dist.strategy is not None:
        log(f"  training on {dist.describe()}, global batch {config.batch_size}")
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
    if dist.workers > 1:
        _check_workers_agree(dist, data, config, done)

    # A fresh Keras state: layer and weight names (which the .h5 files hold) do not depend on what this
    # process built before, so a run trained in a long-lived process writes the bytes a fresh one would.
    keras.backend.clear_session()
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    has_val = len(val_x) > 0
    steps = -(-len(train_x) // config.batch_size)
    class_weight = None
    if config.class_weight == "balanced":
        import numpy as np

        counts = np.bincount(train_y, minlength=len(config.labels))
        class_weight = {i: float(len(train_y) / (len(counts) * c)) if c else 0.0 for i, c in enumerate(counts)}
    # Keras applies class weights itself to a plain dataset; a distributed one carries them per image.
    fit_class_weight = class_weight if dist.strategy is None else None
    in_pipeline_weights = class_weight if dist.strategy is not None else None

    def train_dataset(phase: str, epoch: int, local: bool = False):
        """One pipeline per epoch, seeded by (seed, phase, epoch): resume sees the same batches."""
        def make(batch, shard):
            return to_tf_dataset(train_x, train_y, batch, training=True, seed=_seed_for(config.seed, phase, epoch),
                                 augment=config.augment, flip=config.flip, shard=shard,
                                 class_weight=in_pipeline_weights)
        if local:  # this worker's own share, not distributed (the input probe)
            shard = (dist.workers, dist.worker_index) if dist.workers > 1 else None
            return make(dist.per_replica_batch(config.batch_size) * (dist.replicas // dist.workers), shard)
        return dist.dataset(make, config.batch_size)

    val_ds = dist.dataset(lambda batch, shard: to_tf_dataset(val_x, val_y, batch, training=False, shard=shard),
                          config.batch_size) if has_val else None
    # A distributed dataset does not know its length: Keras needs the steps (of global batches).
    fit_steps = {} if dist.strategy is None else dict(
        steps_per_epoch=steps, **({"validation_steps": -(-len(val_x) // config.batch_size)} if has_val else {}))

    model = _build_model(config, dist)
    result = TrainResult(chief_dir, config.labels, history, None, None, 0.0)
    from . import interrupts as interrupts_module

    input_rate, verdict_due = None, False
    try:
        with _Interrupts(log) as interrupts:
            for phase in PHASES:
                total = config.phase_epochs[phase]
                if total == 0:
                    continue
                with dist.scope():
                    if phase == "qat":
                        from .tf_env import tfmot

                        model = tfmot().quantization.keras.quantize_model(model)
                        if dist.strategy is not None:
                            _synchronize_batch_norms(model)
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
                    with dist.scope():
                        model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(),
                                      metrics=["accuracy"])

                # Slots for every variable that will ever train, before any is frozen: one checkpoint layout.
                with dist.scope():
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
                guard = _GuardCallback(keras, interrupts, config.batch_size)
                status = phase_status(config, history, phase, start)
                for epoch in range(start, total):
                    if status["finished"]:
                        break
                    if input_rate is None:
                        input_rate = _probe_input(train_dataset(phase, epoch, local=True))
                        log(f"  input pipeline alone: {input_rate:,.0f} images/s ({data.pipeline}"
                            f"{', this worker' if dist.workers > 1 else ''}); `train --benchmark-input` measures longer")
                        verdict_due = True
                    compile_for(epoch)
                    train_ds = train_dataset(phase, epoch)
                    if dist.strategy is not None:
                        # Keras' fit makes a plain dataset's iterator twice in its first epoch (enumerate_epochs:
                        # before the loop, and again because it should_recreate_iterator) and trains on the second
                        # pass, reshuffled; a distributed dataset with steps_per_epoch is iterated once. One
                        # iterator made and dropped here gives it the same order and augmentation seeds.
                        iter(train_ds)
                    lr_now = float(schedule(optimizer.iterations))
                    fit = model.fit(train_ds, validation_data=val_ds, epochs=epoch + 1, initial_epoch=epoch, verbose=0,
                                    callbacks=[progress, guard], class_weight=fit_class_weight, **fit_steps)
                    history.append({"phase": phase, "epoch": epoch + 1,
                                    **{k: float(v[-1]) for k, v in fit.history.items()},
                                    "lr": lr_now, "first_batch_loss": guard.first_batch_loss})
                    if verdict_due and guard.images_per_second:
                        log(_input_verdict(input_rate, guard.images_per_second, config.batch_size))
                        verdict_due = False
                    status = phase_status(config, history, phase, epoch + 1)
                    _save_checkpoint(ckpt, run_dir, phase, epoch + 1, status["best_epoch"])
                    _write_history(run_dir, history)
                    if note_interrupts:  # what a Ctrl-C from now on leaves: said by the CLI's one line
                        interrupts_module.note_kept(_kept(run_dir, chief_dir))
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
        raise TrainingInterrupted(_kept(run_dir, chief_dir)) from None
    except tf.errors.OpError as e:
        from .data.stream import CHANGED_MARK

        if CHANGED_MARK in str(e):  # a streamed image changed or vanished while training read it
            line = next(line for line in str(e).splitlines() if CHANGED_MARK in line)
            raise UserError(line[line.find("cannot read"):] if "cannot read" in line else
                            line[line.find("image "):]) from None
        raise
    if config.qat_epochs == 0:
        (run_dir / "qat_model.h5").unlink(missing_ok=True)
    result.test = _score_test_split(run_dir, data, model, config, log)
    result.seconds = time.time() - start_time
    return result


def benchmark_input(config: TrainConfig, *, pipeline: str = "auto", cache=None, seconds: float = 20.0,
                    log=None) -> dict:
    """Images per second of the training input pipeline alone (decoding or reading, augmentation,
    batching; no model): the first float epoch's pipeline, iterated for an epoch (at least 1,000 images),
    at most `seconds`. Nothing is written but the cache."""
    from .data import to_tf_dataset
    from .tf_env import keras, tf

    log = log or print
    config.check()
    data = _load_run_data(config, Path("."), False, log, pipeline, cache)
    for line in data.summary_lines():
        log(line)
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    from .data.pipeline import measure_images_per_second

    dataset = to_tf_dataset(data.x("train"), data.y("train"), config.batch_size, training=True,
                            seed=_seed_for(config.seed, "float", 0), augment=config.augment, flip=config.flip)
    # An epoch, or 1,000 images of a small set (repeated), or `seconds` of a large one.
    batches = -(-max(len(data.y("train")), 1000) // config.batch_size)
    rate, count = measure_images_per_second(dataset.repeat(), max_seconds=seconds, max_batches=batches)
    h, w, c = data.input_shape
    return {"images_per_second": rate, "images": count, "pipeline": data.pipeline, "input_shape": [h, w, c],
            "batch_size": config.batch_size, "augment": config.augment, "note": data.input_note}


def _build_model(config: TrainConfig, dist):
    """The model, created inside the strategy's scope. Under a strategy it starts from the weights a
    one-device run draws (built first, outside the scope, from the same seed), and with several replicas
    its batch norms are synchronized: each replica normalizes by the whole global batch's statistics, as
    one device would, instead of its own share's."""
    from .models import build_model
    from .tf_env import keras

    def build():
        return build_model(config.arch, config.input_shape, config.alpha, len(config.labels),
                           dropout=config.dropout, bn_momentum=BN_MOMENTUM)

    if dist.strategy is None:
        return build()
    template = build()

    def clone(layer):
        layer_config = layer.get_config()
        if isinstance(layer, keras.layers.BatchNormalization):
            layer_config["synchronized"] = True
        return layer.__class__.from_config(layer_config)

    with dist.scope():
        model = keras.models.clone_model(template, clone_function=clone)
        model.set_weights(template.get_weights())
    return model


def _synchronize_batch_norms(model):
    """Synchronized batch norms again after quantize_model: tfmot rebuilds every layer from its config, and
    Keras leaves `synchronized` out of a BatchNormalization's config, so QAT would normalize each replica's
    share by its own statistics (a different model from the one-device run's, not just rounding)."""
    from .tf_env import keras

    for layer in model.layers:
        inner = getattr(layer, "layer", layer)  # QAT wraps layers
        if isinstance(inner, keras.layers.BatchNormalization):
            inner.synchronized, inner.fused = True, False  # Keras' own rule: a synchronized norm is not fused


def _check_workers_agree(dist, data, config: TrainConfig, done: dict):
    """All workers must train on the same images and resume from the same epoch, or they would silently
    compute different things (or wait for each other forever): compared once, before training."""
    import hashlib

    digest = hashlib.sha256(json.dumps({
        "labels": data.labels, "shape": list(data.input_shape), "config": config.to_json(),
        "splits": {name: list(decoded.hashes) for name, (_, decoded) in data.parts.items()}}).encode())
    mine = [int(digest.hexdigest()[:15], 16), done["float"], done["qat"]]
    rows = dist.gather_ints(mine)
    if any(row[0] != rows[0][0] for row in rows):
        raise UserError("the workers' data or arguments differ (their splits' content hashes do not match): give "
                        "every worker the same data folder, arguments and seed")
    if any(row[1:] != rows[0][1:] for row in rows):
        raise UserError("the workers would resume from different epochs ("
                        + "; ".join(f"worker {i}: {r[1]} float, {r[2]} QAT" for i, r in enumerate(rows))
                        + "): give every worker its own copy of the run directory as it was when they stopped")


def _probe_input(dataset, seconds: float = 1.0, batches: int = 8) -> float:
    from .data.pipeline import measure_images_per_second

    rate, _ = measure_images_per_second(dataset, max_seconds=seconds, max_batches=batches)
    return rate


def _input_verdict(input_rate: float, train_rate: float, batch: int) -> str:
    """Whether training waits for its input: it ran near the input pipeline's own speed."""
    if train_rate >= 0.8 * input_rate:
        return (f"  input-bound: training ran at {train_rate:,.0f} images/s, the input pipeline alone gives "
                f"{input_rate:,.0f}: the model waits for images (--cache DIR saves decoding; more cores help)")
    return (f"  not input-bound: training ran at {train_rate:,.0f} images/s, the input pipeline alone gives "
            f"{input_rate:,.0f} images/s")


def _GuardCallback(keras, interrupts, batch_size: int = 0):
    """Looks at Ctrl-C between steps, and records the first batch's loss (where training started from)."""

    class Guard(keras.callbacks.Callback):
        first_batch_loss = None
        images_per_second = None  # of the epoch's steps after the first two (those pay for tracing)

        def on_epoch_begin(self, epoch, logs=None):
            self.first_batch_loss = None
            self._since, self._steps = None, 0

        def on_train_batch_end(self, batch, logs=None):
            if batch == 0 and logs and "loss" in logs:
                self.first_batch_loss = float(logs["loss"])
            if batch == 1:
                self._since = time.perf_counter()
            elif batch > 1:
                self._steps, self._last = self._steps + 1, time.perf_counter()
            interrupts.check()

        def on_epoch_end(self, epoch, logs=None):
            self.images_per_second = None
            if self._steps >= 3:  # steps 3… of the epoch, up to its last training batch (not validation)
                self.images_per_second = self._steps * batch_size / (self._last - self._since)

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
            scores[f"{phase}_accuracy"] = _accuracy(m, test_x, test_y, keras_accuracy)
    atomic_write(path, json.dumps(scores, indent=2))
    log(f"test split ({len(test_y)} images, scored once, at the end): "
        + ", ".join(f"{p} {scores[f'{p}_accuracy']:.4f}" for p in PHASES if f"{p}_accuracy" in scores))
    return scores


def _accuracy(model, x, y, keras_accuracy) -> float:
    """Keras accuracy on uint8 images: an array at once, streamed images through their pipeline."""
    from .data.stream import StreamedImages

    if not isinstance(x, StreamedImages):
        return keras_accuracy(model, x, y)
    import numpy as np

    from .data import to_tf_dataset

    probs = model.predict(to_tf_dataset(x, y, 64, training=False).map(lambda images, _: images), verbose=0)
    return float((probs.argmax(axis=1) == np.asarray(y)).mean())


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
