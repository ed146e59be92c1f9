"""The README's code is the code that runs: its quick start is examples/quickstart.py, executed here."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)


def test_readme_quick_start_is_the_quickstart_example() -> None:
    assert (ROOT / "examples" / "quickstart.py").read_text() in _python_blocks()


def test_readme_querying_section_is_the_querying_example() -> None:
    assert (ROOT / "examples" / "querying.py").read_text() in _python_blocks()


def test_querying_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(ROOT / "examples" / "querying.py"), run_name="__main__")
    assert "Person.city startswith: needs a text index" in capsys.readouterr().out


def test_quickstart_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(ROOT / "examples" / "quickstart.py"), run_name="__main__")
    assert "Bike.name: value 'tricycle' is already held by Bike pk=1; nothing was written" in capsys.readouterr().out


def test_readme_pipelines_section_is_the_pipelines_example() -> None:
    assert (ROOT / "examples" / "pipelines.py").read_text() in _python_blocks()


def test_pipelines_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(ROOT / "examples" / "pipelines.py"), run_name="__main__")
    assert "Person.name.hset() of pk=4: no value yet, its pipeline has not run" in capsys.readouterr().out


def test_readme_relations_section_is_the_relations_example() -> None:
    assert (ROOT / "examples" / "relations.py").read_text() in _python_blocks()


def test_relations_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(ROOT / "examples" / "relations.py"), run_name="__main__")
    assert "Person pk=1 was not deleted: Group pk=1 points to Person pk=1 by Group.owner" in capsys.readouterr().out


def test_readme_testing_section_is_the_testing_example() -> None:
    assert (ROOT / "examples" / "testing_models.py").read_text() in _python_blocks()


def test_testing_example_passes_under_pytest(server_url: str) -> None:
    # A user's run: pytest loads the limpyd_typed plugin by its entry point, not through our conftest.
    env = {**os.environ, "LIMPYD_TEST_REDIS_URL": server_url}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "examples/testing_models.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
