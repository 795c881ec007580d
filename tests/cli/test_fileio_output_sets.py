"""fileio's output sets: whole or not at all, also when the process dies in the middle of moving them."""
import json
import os
import signal
import subprocess
import sys

import pytest

from mobilenet_tiny.errors import UserError
from mobilenet_tiny.fileio import MANIFEST, STAGING_TAG, output_set, replaced_dir


def _tree(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_output_set_moves_all_and_removes_what_belongs_to_the_old_set(tmp_path):
    (tmp_path / "keep.txt").write_text("not ours")
    (tmp_path / "report.md").write_text("the user's own, never written by the set")
    with output_set(tmp_path, "convert:model") as out:
        (out.dir / "model.tflite").write_text("old model")
        (out.dir / "report.json").write_text("old report")
    with output_set(tmp_path, "compile:model") as out:  # another set in the same folder
        (out.dir / "model.c").write_text("compiled")
    with output_set(tmp_path, "convert:model") as out:
        (out.dir / "model.tflite").write_text("new model")
        (out.dir / "report.md").write_text("new report")
        assert (tmp_path / "model.tflite").read_text() == "old model"  # nothing visible before the end
    tree = _tree(tmp_path)
    assert json.loads(tree.pop(MANIFEST)) == {"convert:model": ["model.tflite", "report.md"],
                                              "compile:model": ["model.c"]}
    assert tree == {"keep.txt": b"not ours", "model.tflite": b"new model", "report.md": b"new report",
                    "model.c": b"compiled"}


def test_output_set_failure_keeps_the_old_set_and_removes_what_it_created(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "model.tflite").write_text("old")
    for out_dir in (tmp_path / "old", tmp_path / "new" / "deeper"):
        with pytest.raises(KeyboardInterrupt):
            with output_set(out_dir, "convert:model") as out:
                (out.dir / "model.tflite").write_text("new")
                raise KeyboardInterrupt
    assert _tree(tmp_path) == {"old/model.tflite": b"old"}
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("make,fragment", [
    (lambda p: (p.write_text("x"), p)[1], "is not a directory"),
    (lambda p: (p.write_text("x"), p / "sub" / "dir")[1], "is a file"),
    (lambda p: (p.symlink_to(p.parent / "gone"), p / "x")[1], "broken symbolic link"),
])
def test_output_dir_that_cannot_be_one_is_a_user_error(tmp_path, make, fragment):
    target = make(tmp_path / "thing")
    with pytest.raises(UserError, match=fragment):
        with output_set(target):
            pass


def test_killed_mid_commit_is_finished_by_the_next_command(tmp_path):
    """A journal written, one file moved, then kill -9: the next output_set completes the set."""
    (tmp_path / "a").write_text("old a")
    (tmp_path / "b").write_text("old b")
    (tmp_path / "c").write_text("old c")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    staging = tmp_path / f"{STAGING_TAG}{dead.pid}-x"
    staging.mkdir()
    (staging / "b").write_text("new b")
    (staging / ".commit.json").write_text(json.dumps({"move": ["a", "b"], "remove": ["c"]}))
    (tmp_path / "a").write_text("new a")  # already moved when the process died
    stale = tmp_path / f"{STAGING_TAG}{dead.pid}-y"  # never committed: discarded
    stale.mkdir()
    (stale / "a").write_text("half")
    with output_set(tmp_path):
        pass
    assert _tree(tmp_path) == {"a": b"new a", "b": b"new b"}
    assert not any(p.name.startswith(STAGING_TAG) for p in tmp_path.iterdir())


def test_commit_is_not_cut_by_sigint(tmp_path, monkeypatch):
    """SIGINT arriving while the files are moved takes effect after the last one."""
    import mobilenet_tiny.fileio as fileio

    real = fileio._finish_commit

    def interrupted_commit(staging, out_dir):
        os.kill(os.getpid(), signal.SIGINT)
        real(staging, out_dir)

    monkeypatch.setattr(fileio, "_finish_commit", interrupted_commit)
    with pytest.raises(KeyboardInterrupt):
        with output_set(tmp_path) as out:
            for i in range(50):
                (out.dir / f"f{i}").write_text(str(i))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"f{i}" for i in range(50))


def test_replaced_dir_swaps_whole_or_keeps_the_old(tmp_path):
    final = tmp_path / "project"
    with replaced_dir(final) as d:
        (d / "src").mkdir()
        (d / "src" / "model.c").write_text("v1")
    assert _tree(final) == {"src/model.c": b"v1"}
    with pytest.raises(RuntimeError):
        with replaced_dir(final) as d:
            (d / "src").mkdir()
            (d / "src" / "model.c").write_text("half of v2")
            raise RuntimeError("build failed")
    assert _tree(final) == {"src/model.c": b"v1"}
    with replaced_dir(final) as d:
        (d / "other").write_text("v3")
    assert _tree(final) == {"other": b"v3"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]
