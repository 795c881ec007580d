"""Build expensive test artifacts (trained / converted models) once and keep them on disk.

The cache key is the caller's parameters plus a hash of the package's source, so editing the code that
makes an artifact rebuilds it, and re-running the suite on unchanged code costs nothing.
"""
import hashlib
import json
import os
from pathlib import Path

from mobilenet_tiny.fileio import atomic_write

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = Path(os.environ.get("MOBILENET_TINY_TEST_CACHE", ROOT / ".cache" / "test-artifacts"))


def source_hash(*subdirs: str) -> str:
    """Hash of the package source files under mobilenet_tiny/<subdirs> (all of it when none are named)."""
    digest = hashlib.sha256()
    roots = [ROOT / "mobilenet_tiny" / s for s in subdirs] or [ROOT / "mobilenet_tiny"]
    for root in roots:
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for f in files:
            digest.update(str(f.relative_to(ROOT)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()[:16]


def cached_bytes(name: str, key: dict, build) -> bytes:
    """Return build() -> bytes, cached under `name` and a hash of `key` (JSON-serialisable)."""
    text = json.dumps(key, sort_keys=True, default=str)
    path = CACHE_DIR / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.bin"
    if path.exists():
        return path.read_bytes()
    data = build()
    atomic_write(path, data)
    return data


def cached_dir(name: str, key: dict, build) -> Path:
    """Return a directory made by build(path) (it fills the empty dir it is given), cached like cached_bytes."""
    import shutil
    import tempfile

    text = json.dumps(key, sort_keys=True, default=str)
    path = CACHE_DIR / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    if path.is_dir():
        return path
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=CACHE_DIR))
    try:
        build(tmp)
        tmp.rename(path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path
