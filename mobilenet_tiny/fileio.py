"""Write outputs whole or not at all: a crash, a bad input or Ctrl-C never leaves a half-written file or a
mixed set of outputs (some files from this run, some from the last) behind.

- `atomic_write` / `atomic_path`: one file, through a temporary file renamed onto it.
- `output_set`: all files of one command in a directory that holds other things too (a run directory):
  they are written into a hidden staging directory inside it, then moved in together.
- `replaced_dir`: a directory that is entirely one command's output (a firmware project): it is built in a
  hidden sibling that takes the old one's place in one rename.

A move of several files cannot be one system call, so `output_set` journals it: the list of moves is
written first (that write is the commit), SIGINT / SIGTERM wait until the moves are done, and a process
killed in the middle (kill -9) leaves the journal behind for the next `output_set` on the same directory
to finish. Staging directories of dead processes are removed the same way.
"""
import contextlib
import ctypes
import errno
import json
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from . import interrupts
from .errors import UserError

STAGING_TAG = ".mobilenet-tiny-staging-"
OLD_TAG = ".mobilenet-tiny-old-"
_JOURNAL = ".commit.json"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path next to `path`; on success it is renamed onto `path`, on error removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs should look like any other file
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write(path, data: bytes | str) -> Path:
    """Write bytes or text (UTF-8) to `path` atomically."""
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
    return Path(path)


@contextlib.contextmanager
def signals_deferred():
    """SIGINT and SIGTERM received inside the block take effect when it ends (for steps that must not be cut
    in half). Only the main thread can change handlers; elsewhere the block runs unprotected."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    previous = {s: h for s, h in previous.items() if h is not None}  # None: a handler set outside Python
    for s in previous:
        signal.signal(s, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(caught):
            signal.raise_signal(s)


# ------------------------------------------------------------------------------------ output directories

def check_output_dir(path) -> Path:
    """Fail with one line unless directory `path` exists or could be created where it is (no parent of it
    is a file or a broken link). Returns its nearest existing ancestor (itself when it exists)."""
    path = Path(path)
    existing = path
    while not existing.exists():
        if existing.is_symlink():  # a dangling link: mkdir would fail with a confusing "exists"
            raise UserError(f"cannot create {path}: {existing} is a broken symbolic link")
        existing = existing.parent
    if not existing.is_dir():
        where = "" if existing == path else f": {existing} is a file"
        raise UserError(f"output directory {path} is not a directory{where}")
    return existing


def make_output_dir(path) -> list[Path]:
    """Create directory `path` (and its parents) or fail with one line saying why; returns the directories
    created, outermost first, so a failed command can remove them again."""
    path = Path(path)
    existing = check_output_dir(path)
    missing = []
    d = path
    while d != existing:
        missing.append(d)
        d = d.parent
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            pass
        except OSError as e:
            remove_empty_dirs(missing[missing.index(d) + 1:])
            raise UserError(f"cannot create output directory {path}: {e.strerror}") from None
    return list(reversed(missing))


def remove_empty_dirs(created: list[Path]):
    for d in reversed(created):
        with contextlib.suppress(OSError):
            d.rmdir()


def _staging_dir(parent: Path, prefix: str, target: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent))
    except OSError as e:
        raise UserError(f"cannot write {target}: {e.strerror}") from None


def _owner_alive(name: str, tag: str) -> bool:
    """Whether the process that made a staging directory named ...<tag><pid>-... still runs."""
    try:
        pid = int(name.split(tag, 1)[1].split("-", 1)[0])
    except (IndexError, ValueError):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --------------------------------------------------------------------------------- file sets: output_set

MANIFEST = ".mobilenet-tiny-outputs.json"


class OutputSet:
    """Where a command writes its files: `dir` (the staging directory); `out_dir` is where they will be."""

    def __init__(self, out_dir: Path, staging: Path):
        self.out_dir, self.dir = out_dir, staging

    def final(self, name: str) -> Path:
        return self.out_dir / name


@contextlib.contextmanager
def output_set(out_dir, set_name: str | None = None):
    """Yield an OutputSet; write every output file into its `dir`. When the block succeeds they are moved
    into `out_dir` together. When it fails or is interrupted, `out_dir` keeps its old files untouched, and
    a directory this call created is removed again.

    With a `set_name` (e.g. "convert:model") the files are listed in out_dir's manifest, and the files the
    same set wrote last time but not this time are removed with the move (a report of an earlier model
    must not stay beside a new model). Files the manifest does not list are never removed.

    Entering checks that `out_dir` can be written (creating it), so call it before expensive work."""
    out_dir = Path(out_dir)
    created = make_output_dir(out_dir)
    recover(out_dir)
    staging = _staging_dir(out_dir, STAGING_TAG, out_dir)
    try:
        yield OutputSet(out_dir, staging)
        interrupts.check()
        names = sorted(p.name for p in staging.iterdir() if p.name != MANIFEST)
        remove = []
        if set_name is not None:
            manifest = _read_manifest(out_dir)
            remove = sorted(n for n in manifest.get(set_name, []) if n not in names and "/" not in n)
            manifest[set_name] = names
            atomic_write(staging / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
            names.append(MANIFEST)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        remove_empty_dirs(created)
        raise
    with signals_deferred():
        atomic_write(staging / _JOURNAL, json.dumps({"move": names, "remove": remove}))  # the commit point
        _finish_commit(staging, out_dir)
        _note_written(out_dir)


def _note_written(path: Path):
    if STAGING_TAG not in str(path):  # a set inside another one's staging directory is not written yet
        interrupts.note_written(path)


def _read_manifest(out_dir: Path) -> dict:
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _finish_commit(staging: Path, out_dir: Path):
    journal = json.loads((staging / _JOURNAL).read_text())
    for name in journal["move"]:
        if os.path.lexists(staging / name):
            os.replace(staging / name, out_dir / name)
    for name in journal["remove"]:
        with contextlib.suppress(FileNotFoundError, IsADirectoryError):
            os.unlink(out_dir / name)
    shutil.rmtree(staging, ignore_errors=True)


def recover(out_dir):
    """Finish the commits and remove the staging directories that dead processes left in `out_dir`."""
    out_dir = Path(out_dir)
    with contextlib.suppress(OSError):
        for entry in out_dir.iterdir():
            if not entry.name.startswith(STAGING_TAG) or _owner_alive(entry.name, STAGING_TAG):
                continue
            if (entry / _JOURNAL).is_file():
                with signals_deferred():
                    _finish_commit(entry, out_dir)
            else:
                shutil.rmtree(entry, ignore_errors=True)


# ------------------------------------------------------------------------------ whole dirs: replaced_dir

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


@contextlib.contextmanager
def replaced_dir(final):
    """Yield an empty hidden sibling of directory `final` to build its new content in. When the block
    succeeds the sibling takes `final`'s place (swapped in one rename where the OS can, else two) and the
    old content is deleted; when it fails or is interrupted the sibling is deleted and `final` stays as it
    was."""
    final = Path(final)
    check_output_dir(final)
    created = make_output_dir(final.parent)
    _recover_siblings(final)
    staging = _staging_dir(final.parent, f".{final.name}{STAGING_TAG}", final)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes 0700; the result should look like any other folder
    try:
        yield staging
        interrupts.check()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        remove_empty_dirs(created)
        raise
    with signals_deferred():
        if not final.exists():
            os.rename(staging, final)
        elif _exchange(staging, final):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the old content
        else:
            old = Path(tempfile.mkdtemp(prefix=f".{final.name}{OLD_TAG}{os.getpid()}-", dir=final.parent))
            os.rename(final, old / "dir")
            os.rename(staging, final)
            shutil.rmtree(old, ignore_errors=True)
        _note_written(final)


def _recover_siblings(final: Path):
    """Undo what a killed replaced_dir left next to `final`: its staging directory, and an old content
    moved aside but not yet replaced (put back)."""
    with contextlib.suppress(OSError):
        for entry in final.parent.iterdir():
            for tag in (STAGING_TAG, OLD_TAG):
                prefix = f".{final.name}{tag}"
                if not entry.name.startswith(prefix) or _owner_alive(entry.name, tag):
                    continue
                if tag == OLD_TAG and not os.path.lexists(final) and (entry / "dir").is_dir():
                    os.rename(entry / "dir", final)
                shutil.rmtree(entry, ignore_errors=True)
