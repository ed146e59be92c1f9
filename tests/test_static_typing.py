"""The type checkers are part of the test suite: mypy --strict and pyright report 0 errors.

tests/typing/ holds assert_type checks and `# type: ignore[code]` lines that both checkers must
find necessary, so these two runs also prove that wrong code is rejected.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)


def test_mypy_strict_reports_no_error() -> None:
    result = _run(sys.executable, "-m", "mypy")  # files, strict and warn_unused_ignores: mypy.ini
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_pyright_reports_no_error() -> None:
    binary = shutil.which("basedpyright") or str(Path(sys.executable).parent / "basedpyright")
    result = _run(binary)  # include, mode and rules: [tool.basedpyright] in pyproject.toml
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout
