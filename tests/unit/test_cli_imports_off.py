"""GOVERNANCE_IMPORTS=off (a host that only reads snapshots copied from the
data host) holds on the command line as on the data page: nothing that writes
the working database runs, with a Chinese message and exit code 2."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys

import duckdb
import pytest

from governance import publish
from governance.cli import EXIT_OK, EXIT_USAGE, main
from governance.text import t
from tests.conftest import PROJECT_DIR, messy_communities_csv


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def imported(tmp_path, monkeypatch):
    """A database with one communities import, made while imports were on."""
    monkeypatch.delenv(publish.IMPORTS_ENV_VAR, raising=False)
    source = tmp_path / "社区.csv"
    source.write_bytes(messy_communities_csv())
    path = tmp_path / "reader.duckdb"
    code, _, err = run_cli("import", "--db", str(path), "--table", "communities", str(source))
    assert code == EXIT_OK, err
    return path


def test_import_is_refused_on_a_reading_host_and_changes_nothing(tmp_path, imported,
                                                                 monkeypatch):
    bumped = tmp_path / "社区_更正.csv"
    bumped.write_bytes(messy_communities_csv(households_bump=1))
    before = _digest(imported)
    monkeypatch.setenv(publish.IMPORTS_ENV_VAR, "off")

    code, out, err = run_cli("import", "--db", str(imported), "--table", "communities",
                             str(bumped))

    assert code == EXIT_USAGE
    assert err.strip() == t("cli.imports_off")
    assert "GOVERNANCE_IMPORTS=off" in err and "数据主机" in err
    assert out == "" and "Traceback" not in err
    assert _digest(imported) == before
    assert not publish.published_dir(imported).exists()
    conn = duckdb.connect(str(imported), read_only=True)
    try:
        assert conn.execute("select count(*) from import_history").fetchone()[0] == 1
    finally:
        conn.close()


@pytest.mark.parametrize("setting", ["off", "OFF", " off "])
def test_every_command_that_writes_the_working_database_is_refused(tmp_path, imported,
                                                                   monkeypatch, setting):
    geojson = tmp_path / "边界.geojson"
    geojson.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    before = _digest(imported)
    monkeypatch.setenv(publish.IMPORTS_ENV_VAR, setting)
    for argv in (
        ["boundaries", "--db", str(imported), str(geojson)],
        ["clear-sample", "--db", str(imported), "--yes"],
        ["restore", "--db", str(imported), "--from", str(imported), "--yes"],
        ["import-aggregates", "--db", str(imported), str(tmp_path)],
    ):
        code, _, err = run_cli(*argv)
        assert (argv[0], code, err.strip()) == (argv[0], EXIT_USAGE, t("cli.imports_off"))
    assert _digest(imported) == before


def test_reading_commands_still_work_on_a_reading_host(tmp_path, imported, monkeypatch):
    monkeypatch.setenv(publish.IMPORTS_ENV_VAR, "off")
    source = tmp_path / "社区.csv"
    code, out, err = run_cli("validate", "--table", "communities", str(source))
    assert code == EXIT_OK, err
    assert "校验通过" in out and "117 行" in out


def test_the_module_entry_point_exits_non_zero_with_the_message(tmp_path, imported):
    bumped = tmp_path / "社区_更正.csv"
    bumped.write_bytes(messy_communities_csv(households_bump=1))
    env = {**os.environ, publish.IMPORTS_ENV_VAR: "off"}
    run = subprocess.run(
        [sys.executable, "-m", "governance", "import", "--db", str(imported),
         "--table", "communities", str(bumped)],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == EXIT_USAGE
    assert t("cli.imports_off") in run.stderr
    assert "Traceback" not in run.stderr
