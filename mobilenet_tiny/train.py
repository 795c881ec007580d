"""Float training, then quantization-aware fine-tuning (tfmot), with per-epoch checkpoints and resume.

Float first and QAT second (at a lower learning rate) is what measured best here: QAT from scratch leaves
activation ranges near tfmot's initial [-6, 6] and MobileNetV2 barely learns (shared/notes/tensorflow-qat.md).

A run directory holds everything: config.json (the arguments and the labels), checkpoints/ (weights and
optimizer state after every epoch), history.json and training_curve.png (rewritten after every epoch),
float_model.h5 (plain Keras, after the float phase) and qat_model.h5 (the QAT model, load it inside
`tfmot.quantization.keras.quantize_scope()`), which `convert` turns into int8.

Determinism: the same seed gives the same weights and the same .tflite bytes on CPU. The switches are
`keras.utils.set_random_seed(seed)` (Python, NumPy and TF seeds), `tf.config.experimental.
enable_op_determinism()` (deterministic kernels and tf.data), stateless seeded augmentation, and one
tf.data pipeline per epoch seeded from (seed, epoch), so a resumed run sees the same batches as one that
was never stopped.
"""
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .errors import UserError
from .fileio import atomic_path, atomic_write

PHASES = ("float", "qat")
BN_MOMENTUM = 0.9


@dataclass
class TrainConfig:
    arch: str = "v1"
    alpha: float | None = None  # None: the architecture's default (0.25 for v1, 0.35 for v2)
    input_shape: tuple[int, int, int] = (96, 96, 1)
    data: str = "builtin:shapes"
    val_split: float = 0.2
    val_dir: str | None = None
    epochs: int = 8
    qat_epochs: int = 2
    batch_size: int = 32
    lr: float = 3e-3
    qat_lr: float | None = None  # None: lr / 10
    seed: int = 0
    labels: list[str] = field(default_factory=list)  # filled from the data

    def check(self) -> "TrainConfig":
        from .models import ARCHITECTURES, DEFAULT_ALPHA
        from .models.common import check_alpha, check_input_shape

        if self.arch not in ARCHITECTURES:
            raise UserError(f"unknown architecture {self.arch!r}: choose one of {', '.join(sorted(ARCHITECTURES))}")
        self.alpha = check_alpha(self.alpha if self.alpha is not None else DEFAULT_ALPHA[self.arch])
        self.input_shape = check_input_shape(self.input_shape)
        for name in ("epochs", "qat_epochs"):
            if getattr(self, name) < 0:
                raise UserError(f"--{name.replace('_', '-')} must be ≥ 0")
        if self.epochs + self.qat_epochs == 0:
            raise UserError("nothing to train: --epochs and --qat-epochs are both 0")
        if self.batch_size < 1:
            raise UserError("--batch-size must be ≥ 1")
        if not self.lr > 0 or (self.qat_lr is not None and not self.qat_lr > 0):
            raise UserError("learning rates must be > 0")
        return self

    @property
    def phase_epochs(self) -> dict:
        return {"float": self.epochs, "qat": self.qat_epochs}

    def to_json(self) -> dict:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        return d

    @classmethod
    def from_json(cls, d: dict) -> "TrainConfig":
        d = dict(d)
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


# ------------------------------------------------------------------------------------------- run files
def _checkpoint_prefix(run_dir: Path, phase: str, epoch: int) -> Path:
    return run_dir / "checkpoints" / f"{phase}-{epoch:03d}"


def completed_epochs(run_dir: Path) -> dict:
    """Epochs whose checkpoint is complete, per phase (a checkpoint is complete once its .done marker exists;
    the marker is written last, so a run killed mid-save does not count that epoch)."""
    done = {"float": 0, "qat": 0}
    for marker in (run_dir / "checkpoints").glob("*.done"):
        phase, epoch = marker.stem.split("-")
        if phase in done:
            done[phase] = max(done[phase], int(epoch))
    return done


def _save_checkpoint(ckpt, run_dir: Path, phase: str, epoch: int, keep: int = 2):
    prefix = _checkpoint_prefix(run_dir, phase, epoch)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    ckpt.write(str(prefix))
    atomic_write(prefix.with_suffix(".done"), "")
    for old in range(1, epoch - keep + 1):  # keep the last `keep` epochs of the phase
        for f in prefix.parent.glob(f"{phase}-{old:03d}.*"):
            f.unlink()


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


# ---------------------------------------------------------------------------------------------- train
def train(config: TrainConfig, run_dir, *, resume: bool = False, log=None) -> TrainResult:
    """Train float then QAT into `run_dir`; with resume=True continue a stopped run from its last epoch."""
    from .data import load_data, to_tf_dataset
    from .models import build_model
    from .progress import make_keras_progress
    from .tf_env import keras, tf

    run_dir = Path(run_dir)
    start_time = time.time()
    if resume:
        config = load_config(run_dir)  # the run's own arguments win: a resumed run must not change course
    elif (run_dir / "config.json").exists():
        raise UserError(f"{run_dir} already holds a training run: pass --resume to continue it, or another --out")
    config.check()

    data = load_data(config.data, config.input_shape, val_split=config.val_split, val_dir=config.val_dir,
                     seed=config.seed)
    if config.labels and config.labels != data.labels:
        raise UserError(f"the data's classes {data.labels} differ from the run's {config.labels}")
    config.labels = list(data.labels)
    if len(data.val_x) == 0:
        raise UserError("no validation images: use a larger --val-split or --val DIR")
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(run_dir / "config.json", json.dumps(config.to_json(), indent=2))

    history = _read_history(run_dir) if resume else []
    done = completed_epochs(run_dir) if resume else {"float": 0, "qat": 0}
    if resume and done["float"] + done["qat"] == 0:
        history = []
    log = log or print

    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    val_ds = to_tf_dataset(data.val_x, data.val_y, config.batch_size, training=False)
    steps = -(-len(data.train_x) // config.batch_size)

    model = build_model(config.arch, config.input_shape, config.alpha, len(config.labels))
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            # keras.applications' 0.99 / 0.999 suit ImageNet's 100k+ steps; a tiny set gives a few hundred,
            # and with those the moving statistics (what validation and the int8 model use) lag far behind.
            layer.momentum = BN_MOMENTUM
    float_acc = qat_acc = None
    for phase in PHASES:
        total = config.phase_epochs[phase]
        if total == 0:
            continue
        if phase == "qat":
            from .tf_env import tfmot

            model = tfmot().quantization.keras.quantize_model(model)
        lr = config.lr if phase == "float" else (config.qat_lr or config.lr / 10)
        optimizer = keras.optimizers.Adam(lr)
        model.compile(optimizer=optimizer, loss=keras.losses.SparseCategoricalCrossentropy(),
                      metrics=["accuracy"])
        ckpt = tf.train.Checkpoint(model=model, optimizer=optimizer)
        start = min(done[phase], total)
        if start:
            ckpt.read(str(_checkpoint_prefix(run_dir, phase, start))).assert_existing_objects_matched()
            log(f"resuming {phase} training after epoch {start}/{total}")
        progress = make_keras_progress(phase, total, steps, log)
        for epoch in range(start, total):
            # One pipeline per epoch, seeded by (seed, phase, epoch): resume sees the same batches.
            train_ds = to_tf_dataset(data.train_x, data.train_y, config.batch_size, training=True,
                                     seed=config.seed * 1000 + epoch + (500 if phase == "qat" else 0))
            fit = model.fit(train_ds, validation_data=val_ds, epochs=epoch + 1, initial_epoch=epoch, verbose=0,
                            callbacks=[progress])
            history.append({"phase": phase, "epoch": epoch + 1,
                            **{k: float(v[-1]) for k, v in fit.history.items()}})
            _save_checkpoint(ckpt, run_dir, phase, epoch + 1)
            _write_history(run_dir, history)
        phase_acc = _last(history, phase, "val_accuracy")
        if phase == "float":
            float_acc = phase_acc
            if start < total or not (run_dir / "float_model.h5").exists():
                _save_keras(model, run_dir / "float_model.h5")
        else:
            qat_acc = phase_acc
            _save_keras(model, run_dir / "qat_model.h5")
    if config.qat_epochs == 0:
        (run_dir / "qat_model.h5").unlink(missing_ok=True)
    return TrainResult(run_dir, config.labels, history, float_acc, qat_acc, time.time() - start_time)


def _last(history, phase, key):
    values = [h[key] for h in history if h["phase"] == phase and key in h]
    return values[-1] if values else None


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
