"""Training progress for people: a rich progress bar per epoch on a terminal, one summary line per epoch
everywhere (logs and CI included)."""
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


def make_keras_progress(phase: str, total_epochs: int, steps: int, log=None):
    """A tf_keras callback showing `phase` epochs; `log(line)` gets the per-epoch summary."""
    from .tf_env import keras

    console = Console(stderr=True)
    log = log or (lambda line: console.print(line, highlight=False))

    class RichProgress(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.time()
            self._bar = None
            if console.is_terminal and sys.stderr.isatty():
                self._bar = Progress(TextColumn(f"{phase} {epoch + 1}/{total_epochs}"), BarColumn(),
                                     MofNCompleteColumn(), TextColumn("{task.fields[metrics]}"),
                                     TimeRemainingColumn(), console=console, transient=True)
                self._bar.start()
                self._task = self._bar.add_task("", total=steps, metrics="")

        def on_train_batch_end(self, batch, logs=None):
            if self._bar is not None:
                logs = logs or {}
                self._bar.update(self._task, completed=batch + 1,
                                 metrics=f"loss {logs.get('loss', 0):.3f} acc {logs.get('accuracy', 0):.3f}")

        def on_epoch_end(self, epoch, logs=None):
            if self._bar is not None:
                self._bar.stop()
            logs = logs or {}
            log(f"{phase} epoch {epoch + 1}/{total_epochs}: loss {logs.get('loss', float('nan')):.4f} "
                f"acc {logs.get('accuracy', float('nan')):.4f}  val_loss {logs.get('val_loss', float('nan')):.4f} "
                f"val_acc {logs.get('val_accuracy', float('nan')):.4f}  ({time.time() - self._start:.1f} s)")

    return RichProgress()


class _TaskProgress:
    """update(done) for a task of `total` steps: a transient rich bar on a terminal, elsewhere (logs, CI,
    pipes) a plain line at most every `interval` seconds, so a long task never looks hung."""

    def __init__(self, description: str, total: int, log, interval: float, console):
        self.description, self.total, self.log, self.interval = description, total, log, interval
        self._bar = None
        self._last = time.monotonic()
        self._start = self._last
        if console.is_terminal:
            self._bar = Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=console, transient=True)
            self._task = self._bar.add_task("", total=total)
            self._bar.start()

    def update(self, done: int, note: str = ""):
        if self._bar is not None:
            self._bar.update(self._task, completed=done)
            return
        now = time.monotonic()
        if now - self._last >= self.interval and done < self.total:
            self._last = now
            self.log(f"{self.description}: {done:,}/{self.total:,} ({now - self._start:.0f} s){note}")

    def close(self):
        if self._bar is not None:
            self._bar.stop()


class task_progress:
    """Context manager around _TaskProgress: `with task_progress("decoding images", n, log) as p: p.update(i)`."""

    def __init__(self, description: str, total: int, log=None, interval: float = 10.0, console=None):
        self.console = console or Console(stderr=True)
        self.log = log or (lambda line: self.console.print(line, highlight=False))
        self.args = (description, total, interval)

    def __enter__(self) -> _TaskProgress:
        description, total, interval = self.args
        self.progress = _TaskProgress(description, total, self.log, interval, self.console)
        return self.progress

    def __exit__(self, *exc):
        self.progress.close()
