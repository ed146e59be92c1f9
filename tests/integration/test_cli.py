"""``python -m limpyd_typed check|rebuild|inspect module:Model --url URL`` on a real server."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from limpyd_typed import Database
from limpyd_typed.cli import main
from tests.integration.cli_models import Rider

ROOT = Path(__file__).resolve().parents[2]
MODEL = "tests.integration.cli_models:Rider"
TAG = "lt:{cli:Rider}"


@pytest.fixture
def riders(db: Database, server_url: str) -> Iterator[str]:
    Rider.use_database(db)
    for i in range(5):
        Rider(name=f"r{i}", team="blue" if i % 2 else None, tags={"a"})
    yield server_url


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main([*argv, "--no-progress"], out=out)
    return code, out.getvalue()


def test_check_of_a_sound_model_says_ok_and_exits_0(riders: str) -> None:
    code, out = run("check", MODEL, "--url", riders)
    assert code == 0
    assert "Rider: read 5 instances, 12 index entries" in out and out.endswith("Rider: OK\n")


def test_check_lists_the_problems_and_exits_1_then_rebuild_repairs_them(riders: str, db: Database) -> None:
    db.connection.hset(f"{TAG}:obj:2", "team", "red")
    db.connection.sadd(f"{TAG}:f:tags:9", "x")
    code, out = run("check", MODEL, "--url", riders)
    assert code == 1
    assert "Rider.team: stale index entry b'blue' for pk=b'2' (the instance does not hold it)" in out
    assert "Rider.team: value b'red' of pk=b'2' is missing from the index" in out
    assert f"{TAG}:f:tags:9: orphan key of Rider.tags for pk=b'9', which does not exist" in out
    assert out.endswith("Rider: 3 problem(s)\n")
    code, out = run("rebuild", MODEL, "--url", riders)
    assert code == 0 and "Rider: repaired 1 stale, 1 missing, 1 orphans" in out
    assert run("check", MODEL, "--url", riders)[0] == 0


def test_rebuild_exits_1_when_a_unique_value_stays_held_twice(riders: str, db: Database) -> None:
    db.connection.hset(f"{TAG}:obj:2", "name", "r0")
    code, out = run("rebuild", MODEL, "--url", riders)
    assert code == 1 and "Rider.name: unique value b'r0' is held by pks b'1', b'2'" in out


def test_inspect_prints_layout_counts_and_memory(riders: str) -> None:
    code, out = run("inspect", MODEL, "--url", riders)
    assert code == 0
    first = out.splitlines()[0]  # 5 instance hashes, 5 tags sets, pks, next_pk, 3 indexes
    assert first.startswith("Rider: 5 instances, 15 keys, ") and int(first.split(", ")[2].split()[0]) > 0
    assert f"pks            {TAG}:pks" in out
    assert f"tags           set    {TAG}:f:tags:*   5 keys" in out
    assert f"index  {TAG}:idx:team   2 entries" in out


def test_a_bad_model_path_exits_2_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "tests.integration.cli_models:Nobody", "--no-progress"]) == 2
    assert "tests.integration.cli_models:Nobody" in capsys.readouterr().err
    assert main(["check", "no_colon", "--no-progress"]) == 2


def test_a_models_module_that_fails_to_import_exits_2_with_its_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "tests.integration.cli_broken_models:Rider"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert "importing tests.integration.cli_broken_models failed: RuntimeError: the server at /tmp/data is" in err


def test_no_progress_bars_when_stderr_is_not_a_terminal(riders: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "limpyd_typed", "check", MODEL, "--url", riders],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 0 and result.stderr == ""


def test_python_dash_m_runs_the_cli_with_progress_bars(riders: str, db: Database) -> None:
    db.connection.zadd(f"{TAG}:idx:team", {b"ghost\x00" + b"77": 0})
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "limpyd_typed", "check", MODEL, "--url", riders, "--progress"],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False)
    assert result.returncode == 1, result.stderr
    assert "Rider: 1 problem(s)" in result.stdout
    assert "index entries" in result.stderr  # tqdm writes its bars to stderr
