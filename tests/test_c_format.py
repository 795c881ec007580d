"""The C and C++ sources of firmware/ keep the repository's .clang-format (clang-format 14.0.6, pinned in the
test extras, so every machine formats alike)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_firmware_sources_are_formatted():
    clang_format = Path(sys.executable).parent / "clang-format"
    assert clang_format.exists(), "clang-format is one of the test extras: bash tools/setup.sh installs it"
    files = subprocess.run(["git", "ls-files", "*.c", "*.h", "*.cpp"], cwd=ROOT / "firmware", check=True,
                           capture_output=True, text=True).stdout.split()
    assert len(files) > 40
    result = subprocess.run([str(clang_format), "--style=file", "--dry-run", "-Werror", *files],
                            cwd=ROOT / "firmware", capture_output=True, text=True)
    unformatted = sorted({line.split(":")[0] for line in result.stderr.splitlines() if ": error:" in line})
    assert result.returncode == 0, f"not clang-formatted (run clang-format -i on them): {unformatted}"
