"""Run PlatformIO offline: a project-local core dir and a tool-scons package built from PyPI's scons.

PlatformIO fetches its build engine (tool-scons) from its own registry on first use, which is unreachable
here (and on many CI machines). The same engine is the `scons` wheel on PyPI; laid out as a PlatformIO
package with an owner of "platformio" in `.piopm`, PlatformIO accepts it as installed.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import UserError

REPO_ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_DIR = REPO_ROOT / "firmware"
SCONS_PYPI_VERSION = "4.11.1"
TOOL_SCONS_VERSION = "4.41101.0"  # PlatformIO's spelling of scons 4.11.1

_SCONS_LAUNCHER = '''\
"""Launch the scons copy installed next to this file (laid out by mobilenet-tiny's setup_platformio)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "scons-local"))
from SCons.Script.Main import main  # noqa: E402

main()
'''


def core_dir() -> Path:
    """PLATFORMIO_CORE_DIR if the user set it, else <repo>/.platformio (never touches ~/.platformio)."""
    return Path(os.environ.get("PLATFORMIO_CORE_DIR") or REPO_ROOT / ".platformio")


def pio_environ() -> dict:
    """Environment for a `pio` subprocess: our core dir, no update checks or telemetry prompts."""
    env = dict(os.environ)
    env["PLATFORMIO_CORE_DIR"] = str(core_dir())
    env.setdefault("PLATFORMIO_SETTING_ENABLE_TELEMETRY", "No")
    env.setdefault("PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL", "3650")
    env.setdefault("PLATFORMIO_SETTING_CHECK_PRUNE_SYSTEM_THRESHOLD", "0")
    env.setdefault("PLATFORMIO_DISABLE_PROGRESSBAR", "true")
    return env


def pio_executable() -> list[str]:
    """The `pio` of the running Python environment (not whatever is first on PATH)."""
    return [sys.executable, "-m", "platformio"]


def tool_scons_ready(core: Path | None = None) -> bool:
    pkg = (core or core_dir()) / "packages" / "tool-scons"
    try:
        manifest = json.loads((pkg / "package.json").read_text())
    except (OSError, ValueError):
        return False
    return (manifest.get("version") == TOOL_SCONS_VERSION and (pkg / "scons.py").is_file()
            and (pkg / "scons-local" / "SCons" / "__init__.py").is_file() and (pkg / ".piopm").is_file())


def ensure_tool_scons(core: Path | None = None, log=print) -> Path:
    """Install tool-scons into the core dir unless it is already there; returns the package folder."""
    core = core or core_dir()
    pkg = core / "packages" / "tool-scons"
    if tool_scons_ready(core):
        return pkg
    log(f"Setting up PlatformIO's tool-scons {TOOL_SCONS_VERSION} from PyPI scons=={SCONS_PYPI_VERSION} in {pkg}")
    staging = pkg.with_name("tool-scons.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
         "--target", str(staging / "scons-local"), f"scons=={SCONS_PYPI_VERSION}"],
        capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"could not install scons=={SCONS_PYPI_VERSION} from PyPI for PlatformIO: {last}")
    (staging / "scons.py").write_text(_SCONS_LAUNCHER)
    (staging / "package.json").write_text(json.dumps({
        "name": "tool-scons", "version": TOOL_SCONS_VERSION,
        "description": "SCons software construction tool (from PyPI scons)", "keywords": ["build tools"],
        "homepage": "http://www.scons.org"}, indent=2))
    (staging / ".piopm").write_text(json.dumps({
        "type": "tool", "name": "tool-scons", "version": TOOL_SCONS_VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons",
                 "requirements": f"~{TOOL_SCONS_VERSION}", "uri": None}}))
    shutil.rmtree(pkg, ignore_errors=True)
    staging.rename(pkg)
    return pkg


_TOOLCHAIN_PACKAGES = {"arm-none-eabi-": "gcc-arm-none-eabi libnewlib-arm-none-eabi",
                       "riscv64-unknown-elf-": "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf"}


def require_toolchain(prefix: str, tools) -> None:
    """A one-line error naming the first of `prefix + tool` missing from PATH and the packages that have it."""
    missing = [prefix + t for t in tools if shutil.which(prefix + t) is None]
    if missing:
        packages = _TOOLCHAIN_PACKAGES[prefix]
        raise UserError(f"{missing[0]} not found on PATH: install {packages.split()[0]} "
                        f"(Debian: apt-get install {packages})")


def setup(board=None, log=print) -> Path:
    """Everything PlatformIO needs offline for the qemu_* envs (the toolchain of `board`, by default the
    Arm one); fast no-op when already done."""
    require_toolchain(board.toolchain_prefix if board is not None else "arm-none-eabi-", ("gcc", "size"))
    return ensure_tool_scons(log=log)
