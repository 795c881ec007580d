"""Ctrl-C (SIGINT) and kill (SIGTERM) in the CLI: one message, exit status 130 (143), whatever was running.

Python turns SIGINT into KeyboardInterrupt in the main thread, and libraries turn that into other errors:
TensorFlow's tf_stack asserts "Concurrent access?" when the interrupt lands between its push and its pop,
the Keras loader reports a loading error, a child process (the TFLM probe, PlatformIO) hit by the same
Ctrl-C fails on its own, click prints a blank line and raises Abort. So the handler records the signal,
and the CLI reports an interrupt whatever exception then ends the command (`outcome`).

A second signal while the command unwinds is only recorded, so clean-up (removing a staging directory,
stopping QEMU) finishes. Once the command's outcome is printed (`finishing`), a signal during interpreter
shutdown (atexit handlers, TensorFlow's threads being joined) ends the process at once, with the same exit
status, instead of printing a traceback.
"""
import os
import signal
import sys

SIGNALS = (signal.SIGINT, signal.SIGTERM)
NOTHING_WRITTEN = "nothing was written"

_received: int | None = None
_armed = False  # False while the CLI is still importing: a signal then is only recorded
_kept = NOTHING_WRITTEN
_written: list[str] = []  # outputs committed whole (fileio), for the message of a later interrupt
_finished_quietly = False


def install():
    """Route SIGINT and SIGTERM through this module (first thing when the CLI is imported). Until `arm`,
    a signal is only recorded: a KeyboardInterrupt raised inside an import (click's, say) would end the
    process with a traceback before the CLI could report it."""
    for s in SIGNALS:
        signal.signal(s, _on_signal)


def arm():
    """From here on (inside the CLI's handling) a signal raises KeyboardInterrupt; one that came while the
    CLI was being imported is raised now."""
    global _armed
    _armed = True
    for s in SIGNALS:
        signal.signal(s, _on_signal)
    if _received is not None:
        raise KeyboardInterrupt


def _on_signal(signum, _frame):
    global _received
    if _received is None:
        _received = signum
        if _armed:
            raise KeyboardInterrupt
    # Already unwinding from the first one (or not armed yet): let the clean-up finish.


def record(signum: int):
    """Note a signal without raising: for code that stops by itself at its next safe point (training
    finishes its step and its checkpoint) and then raises KeyboardInterrupt."""
    global _received
    if _received is None:
        _received = signum


def received() -> int | None:
    """The signal that interrupted this command, if one did."""
    return _received


def check():
    """Raise KeyboardInterrupt if a signal came and something swallowed the exception (TFLite's calibration
    calls Python from C++ and drops it, then converts to the end): called after such library calls and
    before outputs are committed, so an interrupted command never writes them."""
    if _received is not None:
        raise KeyboardInterrupt


def note_kept(text: str):
    """What an interrupt from now on leaves behind, said after "interrupted; " (e.g. a training run's
    completed epochs). Default: nothing was written."""
    global _kept
    _kept = text


def note_written(path):
    """Outputs at `path` were written whole (an interrupt that comes later must not say "nothing")."""
    _written.append(str(path))


def caused_by_interrupt(error: BaseException | None) -> bool:
    """Whether `error` is a KeyboardInterrupt or was raised while handling one (its context chain)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def outcome() -> tuple[int, str]:
    """(exit status, message) of an interrupted command."""
    signum = _received or signal.SIGINT
    word = "terminated" if signum == signal.SIGTERM else "interrupted"
    if _kept == NOTHING_WRITTEN and _written:
        return 128 + signum, f"{word}; {', '.join(_written)} {'was' if len(_written) == 1 else 'were'} written in full first"
    return 128 + signum, f"{word}; {_kept}"


def finishing(message_printed: bool):
    """The command is over and its outcome printed: from now on a signal ends the process immediately."""
    global _finished_quietly
    _finished_quietly = not message_printed
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    for s in SIGNALS:
        signal.signal(s, _exit_now)


def _exit_now(signum, _frame):
    if _finished_quietly:
        word = "terminated" if signum == signal.SIGTERM else "interrupted"
        try:
            os.write(2, f"{word} while exiting; the command had finished\n".encode())
        except OSError:
            pass
    os._exit(128 + signum)
