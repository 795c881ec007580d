"""`mobilenet-tiny tflm-tree`: TensorFlow Lite Micro's C++ source as trees PlatformIO can build, made by
tflite-micro's own `create_tflm_tree.py` at a pinned commit, with the dependency versions that commit's
download scripts name, into a cache directory outside the repository.

    mobilenet-tiny tflm-tree [--from GIT_DIR ...] [--cache DIR] [--force]

Two trees: `reference` (TFLM's portable kernels, what the host wheel runs) and `cmsis_nn` (Arm's
CMSIS-NN kernels; `TARGET=cortex_m_generic OPTIMIZED_KERNEL_DIR=cmsis_nn TARGET_ARCH=project_generation`).
Sources come from local git directories (`--from`: bare mirrors or clones; by default the fetched
snapshots in /work/.mirror when that exists) or, without any, are fetched from GitHub by commit.
What trips a user running create_tflm_tree.py by hand is handled here: the Makefile's downloads are filled
beforehand (it then skips them), pigweed (only for TFLM's own tests) is an empty folder, the python3 it runs
has numpy and Pillow (this package's), and TARGET_TOOLCHAIN_ROOT points at the system arm-none-eabi-gcc so
no Arm GCC is downloaded.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError, one_line

TFLM_REPO = "tensorflow/tflite-micro"
# The host wheel (tflite-micro 0.dev20261023182759) was built from 8f6596d, a commit no snapshot here
# holds; this is the newest one that is (2026-08-20). README, "TFLM on the device", says what that means.
TFLM_COMMIT = "90b983c2b3f1480642e040bbd2ddb37b998f3424"

# Where tflite-micro's Makefile expects each dependency, under tensorflow/lite/micro/tools/make/downloads/
# (the folder names of its download scripts and of third_party.inc's add_third_party_download calls).
DOWNLOAD_FOLDERS = {
    "google/flatbuffers": "flatbuffers", "google/gemmlowp": "gemmlowp", "google/ruy": "ruy",
    "mborgerding/kissfft": "kissfft", "ARM-software/CMSIS_6": "cmsis",
    "ARM-software/Cortex_DFP": "cmsis/Cortex_DFP", "ARM-software/CMSIS-NN": "cmsis_nn",
}
MAKE_DIR = "tensorflow/lite/micro/tools/make"
# The files in which the pinned tflite-micro names its dependencies' versions.
PIN_FILES = (f"{MAKE_DIR}/third_party_downloads.inc", f"{MAKE_DIR}/ext_libs/cmsis_download.sh",
             f"{MAKE_DIR}/ext_libs/cmsis_nn_download.sh")
KERNEL_SETS = ("reference", "cmsis-nn")
TREE_FOLDERS = {"reference": "reference", "cmsis-nn": "cmsis_nn"}
MANIFEST = "manifest.json"
DEFAULT_MIRROR = Path("/work/.mirror")


def cache_root() -> Path:
    """This package's cache outside the repository: $MOBILENET_TINY_CACHE, else $XDG_CACHE_HOME/mobilenet-tiny,
    else ~/.cache/mobilenet-tiny."""
    if os.environ.get("MOBILENET_TINY_CACHE"):
        return Path(os.environ["MOBILENET_TINY_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mobilenet-tiny"


def default_tree_dir(cache: Path | None = None) -> Path:
    """Where `tflm-tree` puts the trees of the pinned commit."""
    return (cache or cache_root()) / "tflm" / f"tflite-micro-{TFLM_COMMIT[:12]}"


@dataclass(frozen=True)
class Pin:
    """One dependency as the pinned tflite-micro names it."""
    repo: str          # owner/name on GitHub
    ref: str           # commit or tag, as written in the download script
    folder: str        # under tools/make/downloads/
    patch: str | None  # patch file in the tflite-micro tree, applied with `patch -p1`
    named_in: str      # the file that names this version


_URL = re.compile(r"github\.com/([\w.-]+)/([\w.-]+)/archive/(?:refs/tags/)?([^\"'\s]+?)\.zip")
_ASSIGN = re.compile(r"^\s*([A-Z_][A-Z0-9_]*)\s*:?=\s*\"?([^\"\s]*)\"?\s*$")


def read_pins(tflm_src: Path) -> list[Pin]:
    """The dependency versions tflite-micro's own download scripts name (URLs of GitHub archives, with the
    shell/make variables they use substituted), and the patches its Makefile applies to them."""
    pins: dict[str, Pin] = {}
    for name in PIN_FILES:
        path = tflm_src / name
        if not path.is_file():
            raise UserError(f"tflite-micro {TFLM_COMMIT[:7]} has no {name}: cannot read its dependency versions")
        variables: dict[str, str] = {}
        for line in path.read_text().splitlines():
            assign = _ASSIGN.match(line)
            if assign:
                variables[assign.group(1)] = assign.group(2)
            for owner, repo, ref in _URL.findall(line):
                ref = re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), ref)
                full = f"{owner}/{repo}"
                if full not in DOWNLOAD_FOLDERS:
                    continue
                url_var = assign.group(1) if assign else ""
                patch_var = url_var.replace("_URL", "_PATCH_PATH") if url_var.endswith("_URL") else ""
                patch = None
                if patch_var:
                    patch_line = re.search(rf"^{patch_var}\s*:?=\s*\"?([^\"\s]+)", path.read_text(), re.M)
                    patch = patch_line.group(1) if patch_line else None
                if full in pins and pins[full].ref != ref:
                    raise UserError(f"tflite-micro names two versions of {full}: {pins[full].ref} and {ref}")
                pins[full] = Pin(full, ref, DOWNLOAD_FOLDERS[full], patch, name)
    missing = sorted(set(DOWNLOAD_FOLDERS) - set(pins))
    if missing:
        raise UserError(f"tflite-micro {TFLM_COMMIT[:7]}'s download scripts name no version of {', '.join(missing)}")
    # Parents before children (cmsis before cmsis/Cortex_DFP).
    return sorted(pins.values(), key=lambda p: p.folder)


def _git(*args, cwd=None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, **kwargs)


def _resolve(git_dir: Path, ref: str) -> str | None:
    out = _git("-C", str(git_dir), "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", text=True)
    return out.stdout.strip() if out.returncode == 0 else None


def default_sources() -> list[Path]:
    """The fetched snapshots on this machine (/work/.mirror/<owner>+<name>/repo), if there are any."""
    return sorted(p for p in DEFAULT_MIRROR.glob("*/repo") if p.is_dir()) if DEFAULT_MIRROR.is_dir() else []


class Sources:
    """Git directories to take each repository from: the given local ones, else clones from GitHub."""

    def __init__(self, local: list[Path], clone_dir: Path, log):
        self.local = [Path(p).expanduser().resolve() for p in local]
        for p in self.local:
            if _git("-C", str(p), "rev-parse", "--git-dir").returncode != 0:
                raise UserError(f"--from {p} is not a git directory")
        self.clone_dir, self.log = clone_dir, log

    def find(self, repo: str, ref: str) -> tuple[Path, str]:
        """(git dir, full commit) of `ref` in `repo`: a local directory named like the repository first
        (tags such as v130 could exist in several), then any that holds the commit, then a fetch."""
        name = repo.split("/")[1].lower()
        ranked = sorted(self.local, key=lambda p: name not in str(p).lower().replace("+", "/"))
        for git_dir in ranked:
            if name in str(git_dir).lower() or re.fullmatch(r"[0-9a-f]{40}", ref):
                commit = _resolve(git_dir, ref)
                if commit:
                    return git_dir, commit
        if self.local:
            raise UserError(f"none of the --from directories holds {repo} at {ref}")
        return self._fetch(repo, ref)

    def _fetch(self, repo: str, ref: str) -> tuple[Path, str]:
        git_dir = self.clone_dir / f"{repo.replace('/', '+')}.git"
        if not git_dir.is_dir() and _git("init", "-q", "--bare", str(git_dir)).returncode != 0:
            raise UserError(f"cannot create {git_dir}")
        commit = _resolve(git_dir, ref)
        if commit:
            return git_dir, commit
        self.log(f"fetching {repo} {ref} from GitHub")
        refspec = ref if re.fullmatch(r"[0-9a-f]{40}", ref) else f"refs/tags/{ref}:refs/tags/{ref}"
        out = _git("-C", str(git_dir), "fetch", "-q", "--depth", "1", f"https://github.com/{repo}", refspec, text=True)
        commit = _resolve(git_dir, ref) or _resolve(git_dir, "FETCH_HEAD")
        if out.returncode != 0 or not commit:
            raise UserError(f"cannot fetch {repo} {ref} from GitHub: {one_line(out.stderr)[:200]} "
                            "(offline? pass local git directories with --from)")
        return git_dir, commit


def _export(git_dir: Path, commit: str, dest: Path):
    """The files of `commit` into dest (git archive | tar -x, like unzipping GitHub's archive)."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.Popen(["git", "-C", str(git_dir), "archive", "--format=tar", commit], stdout=subprocess.PIPE)
    untar = subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, capture_output=True)
    archive.stdout.close()
    if archive.wait() != 0 or untar.returncode != 0:
        raise UserError(f"cannot export {commit[:12]} of {git_dir}: {one_line(untar.stderr)[:200]}")


def _delete_build_files(folder: Path):
    # As the download scripts do: Bazel BUILD files in a download break TFLM's own Bazel build.
    for path in folder.rglob("*"):
        if path.is_file() and (path.name.endswith("BUILD") or path.name == "BUILD.bazel"):
            path.unlink()


def _make_environ() -> dict:
    """create_tflm_tree.py's Makefile runs `python3` (generate_cc_arrays.py needs numpy and Pillow): this
    interpreter's own directory first on PATH."""
    env = dict(os.environ)
    bin_dir = Path(sys.executable).parent
    if not (bin_dir / "python3").exists():
        shim = Path(tempfile.mkdtemp(prefix="mtk-python3-"))
        (shim / "python3").symlink_to(sys.executable)
        bin_dir = shim
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def makefile_options(kernels: str) -> str:
    if kernels == "reference":
        return ""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        raise UserError("arm-none-eabi-gcc not found: the CMSIS-NN tree names its toolchain (apt-get install "
                        "gcc-arm-none-eabi); without it TFLM's Makefile would download Arm GCC")
    return ("TARGET=cortex_m_generic OPTIMIZED_KERNEL_DIR=cmsis_nn TARGET_ARCH=project_generation "
            f"TARGET_TOOLCHAIN_ROOT={Path(gcc).resolve().parent}/")


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass
class TreeSet:
    root: Path
    manifest: dict

    def tree(self, kernels: str) -> Path:
        return self.root / TREE_FOLDERS[kernels]


def read_tree_set(root: Path) -> TreeSet | None:
    try:
        manifest = json.loads((root / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return TreeSet(root, manifest)


def build_trees(sources: list[Path] | None = None, out: Path | None = None, force: bool = False,
                log=print) -> TreeSet:
    """Make (or find, unless `force`) the reference and CMSIS-NN trees of the pinned commit in `out`
    (default: the cache). The trees appear whole or not at all."""
    out = Path(out or default_tree_dir()).expanduser().resolve()
    sources = Sources(sources if sources is not None else default_sources(), out.parent / "git", log)  # checked first
    with _locked(out.parent / f".{out.name}.lock"):
        existing = read_tree_set(out)
        if existing and not force:
            log(f"TFLM trees of tflite-micro {TFLM_COMMIT[:7]} already in {out}")
            return existing
        for tool in ("make", "patch", "tar", "git"):
            if shutil.which(tool) is None:
                raise UserError(f"{tool} not found: making a TFLM tree needs make, patch, tar and git")
        start = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
        try:
            manifest = _build_into(work, sources, log)
            manifest["seconds"] = round(time.monotonic() - start, 1)
            (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
            if out.exists():
                shutil.rmtree(out)
            work.rename(out)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        log(f"TFLM trees in {out} ({manifest['seconds']:.0f} s)")
        return TreeSet(out, manifest)


def _build_into(work: Path, sources: Sources, log) -> dict:
    src = work / "src"
    tflm_dir, tflm_commit = sources.find(TFLM_REPO, TFLM_COMMIT)
    log(f"tflite-micro {tflm_commit[:12]} from {tflm_dir}")
    _export(tflm_dir, tflm_commit, src)
    downloads = src / MAKE_DIR / "downloads"
    deps = []
    for pin in read_pins(src):
        git_dir, commit = sources.find(pin.repo, pin.ref)
        folder = downloads / pin.folder
        _export(git_dir, commit, folder)
        _delete_build_files(folder)
        if pin.patch:
            patched = subprocess.run(["patch", "-p1", "-s", "-d", str(folder), "-i", str(src / pin.patch)],
                                     capture_output=True, text=True)
            if patched.returncode != 0:
                raise UserError(f"{pin.patch} does not apply to {pin.repo} {pin.ref}: {one_line(patched.stdout)[:200]}")
        deps.append({"repo": pin.repo, "ref": pin.ref, "commit": commit, "folder": pin.folder,
                     "patch": pin.patch, "named_in": pin.named_in})
        log(f"  {pin.repo} {pin.ref} ({commit[:12]}) -> downloads/{pin.folder}")
    (downloads / "pigweed").mkdir()  # only TFLM's own tests use pigweed; an existing folder skips its clone
    env = _make_environ()
    trees = {}
    for kernels in KERNEL_SETS:
        options = makefile_options(kernels)
        tree = work / TREE_FOLDERS[kernels]
        cmd = [sys.executable, "tensorflow/lite/micro/tools/project_generation/create_tflm_tree.py", str(tree)]
        if options:
            cmd.append(f"--makefile_options={options}")
        log(f"create_tflm_tree.py {TREE_FOLDERS[kernels]} {options}".rstrip())
        made = subprocess.run(cmd, cwd=src, env=env, capture_output=True, text=True, timeout=1800)
        if made.returncode != 0:
            lines = [ln for ln in (made.stderr + made.stdout).splitlines() if ln.strip()]
            raise UserError(f"create_tflm_tree.py ({kernels}) failed: {one_line(' '.join(lines[-3:]))[:300]}")
        trees[kernels] = {"folder": TREE_FOLDERS[kernels], "makefile_options": options,
                          "files": sum(1 for p in tree.rglob("*") if p.is_file())}
    shutil.rmtree(src)
    date = _git("-C", str(tflm_dir), "log", "-1", "--format=%cI", tflm_commit, text=True).stdout.strip()
    return {"tflite_micro": {"repo": TFLM_REPO, "commit": tflm_commit, "date": date},
            "dependencies": deps, "trees": trees, "wheel": wheel_build_commit()}


def wheel_build_commit() -> dict:
    """What the installed host wheel says about the tflite-micro commit it was built from."""
    try:
        from importlib.metadata import version

        from tflite_micro.python.tflite_micro import _version

        text = _version.__version__
    except Exception:  # the wheel is not installed: nothing to compare with
        return {}
    commit = re.search(r"-g([0-9a-f]{7,40})$", text)
    return {"version": version("tflite-micro"), "describe": text, "commit": commit.group(1) if commit else None}


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="sources", nargs="+", type=Path, default=None,
                        help="local git directories holding tflite-micro and its dependencies")
    parser.add_argument("--out", type=Path, default=None, help=f"trees folder [{default_tree_dir()}]")
    parser.add_argument("--force", action="store_true", help="make the trees again even if they exist")
    args = parser.parse_args(argv)
    try:
        build_trees(args.sources, args.out, args.force)
    except UserError as e:
        print(f"error: {one_line(e)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
