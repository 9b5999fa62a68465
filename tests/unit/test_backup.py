"""Backups after committed imports, and restoring one (governance/backup.py)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from governance import backup, boundaries, db, importer, reports
from governance.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from governance.contract import TABLES
from governance.text import t
from tests.conftest import SAMPLE_DIR, bad_communities_csv, messy_communities_csv

SNAPSHOT_TABLES = [*TABLES, "import_history", "meta", "community_boundaries", "scenarios"]


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def snapshot(conn) -> dict[str, list]:
    state = {
        name: conn.execute("select * from " + name + " order by all").fetchall()
        for name in SNAPSHOT_TABLES
    }
    # The copy starts its sequence where the original stands: the same next id.
    state["sequence"] = conn.execute(
        "select coalesce(last_value, start_value - 1) from duckdb_sequences()"
        " where database_name = current_database()"
    ).fetchall()
    return state


def file_snapshot(path: Path) -> dict[str, list]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return snapshot(conn)
    finally:
        conn.close()


def communities_file(tmp_path: Path, bump: int = 0, name: str | None = None) -> Path:
    path = tmp_path / (name or ("communities-" + str(bump) + ".csv"))
    path.write_bytes(messy_communities_csv(households_bump=bump))
    return path


def import_communities(conn_or_path, tmp_path: Path, bump: int = 0) -> importer.ImportResult:
    source = importer.SourceFile(communities_file(tmp_path, bump), "communities")
    return importer.import_file(conn_or_path, source, applied_by="tester")


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "district.duckdb"


@pytest.fixture(autouse=True)
def _default_keep(monkeypatch):
    monkeypatch.delenv(backup.KEEP_ENV_VAR, raising=False)


# -- taking backups -------------------------------------------------------------------


def test_a_backup_follows_each_import_that_changed_data(db_path, tmp_path):
    conn = db.connect(db_path)
    try:
        result = import_communities(conn, tmp_path)
        assert result.applied
        backups = backup.list_backups(db_path)
        assert [(b.kind, b.import_id) for b in backups] == [("import", result.import_id)]
        assert backups[0].name.startswith("district-") and backups[0].size > 0
        assert abs(backups[0].taken_at - datetime.now(UTC).replace(tzinfo=None)) < timedelta(minutes=1)

        # Identical file again: nothing changed, so no new backup.
        again = import_communities(conn, tmp_path)
        assert again.unchanged
        # A refused file: no backup either.
        bad = tmp_path / "bad.csv"
        bad.write_bytes(bad_communities_csv())
        refused = importer.import_file(
            conn, importer.SourceFile(bad, "communities"), applied_by="tester"
        )
        assert not refused.applied and not refused.unchanged
        assert len(backup.list_backups(db_path)) == 1

        changed = import_communities(conn, tmp_path, bump=1)
        assert changed.applied
        assert [b.import_id for b in backup.list_backups(db_path)] == [
            result.import_id, changed.import_id
        ]
    finally:
        conn.close()
    folder = backup.backup_dir(db_path)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert not [p for p in folder.iterdir() if p.name.endswith(backup.PARTIAL_SUFFIX)]


def test_the_backup_equals_the_database_right_after_the_import(db_path, tmp_path):
    conn = db.connect(db_path)
    try:
        for table in ("communities", "safety", "incidents"):
            result = importer.import_file(
                conn, importer.SourceFile(SAMPLE_DIR / (table + ".csv"), table), applied_by="t"
            )
            assert result.applied
            latest = backup.list_backups(db_path)[-1]
            assert latest.import_id == result.import_id
            assert file_snapshot(latest.path) == snapshot(conn)
    finally:
        conn.close()
    # The copy is a whole database: it opens as the app opens it, macros included.
    copy = db.connect(latest.path)
    try:
        assert copy.execute("select indicator_status(1, 1, null, 'at_least')").fetchone() == ("met",)
        assert copy.execute("select nextval('import_id_seq')").fetchone() == (4,)
    finally:
        copy.close()


def test_batch_and_boundary_imports_are_backed_up(db_path, tmp_path):
    sources = [importer.SourceFile(SAMPLE_DIR / (n + ".csv"), n) for n in TABLES]
    results = importer.import_files(db_path, sources, applied_by="t")
    assert all(r.applied for r in results)
    ids = [b.import_id for b in backup.list_backups(db_path)]
    assert ids == [max(r.import_id for r in results)]  # one backup per committed batch

    geojson = tmp_path / "b.geojson"
    ring = [[117.0, 32.6], [117.01, 32.6], [117.01, 32.61], [117.0, 32.61], [117.0, 32.6]]
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"community_id": "340403001001"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}), encoding="utf-8")
    conn = db.connect(db_path)
    try:
        result = boundaries.import_boundaries(conn, geojson, applied_by="t")
        assert result.applied
        assert backup.list_backups(db_path)[-1].import_id == result.import_id
        assert file_snapshot(backup.list_backups(db_path)[-1].path) == snapshot(conn)
    finally:
        conn.close()


def test_only_the_newest_backups_are_kept(db_path, tmp_path, monkeypatch):
    monkeypatch.setenv(backup.KEEP_ENV_VAR, "3")
    ids = []
    for bump in range(5):
        result = import_communities(db_path, tmp_path, bump)
        assert result.applied
        ids.append(result.import_id)
    kept = backup.list_backups(db_path)
    assert [b.import_id for b in kept] == ids[-3:]
    assert len(list(backup.backup_dir(db_path).iterdir())) == 3


def test_keep_setting(monkeypatch):
    assert backup.keep_count() == backup.KEEP_BACKUPS == 10
    monkeypatch.setenv(backup.KEEP_ENV_VAR, "4")
    assert backup.keep_count() == 4
    for wrong in ("-2", "many"):
        monkeypatch.setenv(backup.KEEP_ENV_VAR, wrong)
        assert backup.keep_count() == backup.KEEP_BACKUPS


def test_zero_turns_backups_off(db_path, tmp_path, monkeypatch):
    monkeypatch.setenv(backup.KEEP_ENV_VAR, "0")
    assert import_communities(db_path, tmp_path).applied
    assert backup.list_backups(db_path) == []
    code, out, _ = run_cli("backups", "--db", str(db_path))
    assert code == EXIT_OK and "GOVERNANCE_KEEP_BACKUPS=0" in out


def test_memory_databases_are_skipped_silently(memory_conn, tmp_path):
    result = import_communities(memory_conn, tmp_path)
    assert result.applied
    assert not any("备份" in note for note in result.report.notes)
    assert backup.database_path(memory_conn) is None
    assert backup.take_backup(memory_conn, 1) is None


def test_a_failed_backup_keeps_the_import_and_says_so(db_path, tmp_path):
    db.connect(db_path).close()
    backup.backup_dir(db_path).write_text("not a folder")  # mkdir fails
    result = import_communities(db_path, tmp_path)
    assert result.applied
    note = [n for n in result.report.notes if "自动备份没有成功" in n]
    assert len(note) == 1 and str(result.import_id) in note[0]
    assert result.warnings == note
    lines = reports.result_lines([result])
    assert [line.ok for line in lines] == [True, False] and lines[1].text == note[0]
    conn = duckdb.connect(str(db_path), read_only=True)
    try:
        assert conn.execute("select count(*) from communities").fetchone() == (117,)
        assert conn.execute("select count(*) from import_history").fetchone() == (1,)
    finally:
        conn.close()

    code, out, err = run_cli("import", "--db", str(db_path), "--table", "communities",
                             str(communities_file(tmp_path, 2)))
    assert code == EXIT_OK, err
    assert "自动备份没有成功" in out and "已导入" in out and "Traceback" not in out + err


def test_paths_with_quotes_are_escaped_and_odd_ones_refused(tmp_path):
    path = tmp_path / "o'brien \"x\"" / "区'库.duckdb"
    assert import_communities(path, tmp_path).applied
    (only,) = backup.list_backups(path)
    assert file_snapshot(only.path)["communities"]
    assert backup.sql_string("a'b") == "'a''b'"
    assert backup.sql_name('a"b') == '"a""b"'
    for odd in ("a\x00b", "line\nbreak", "", "tab\t"):
        with pytest.raises(backup.BackupError):
            backup.sql_string(odd)
        with pytest.raises(backup.BackupError):
            backup.sql_name(odd)


def test_backups_of_other_databases_in_the_folder_are_not_listed(tmp_path):
    assert import_communities(tmp_path / "a.duckdb", tmp_path).applied
    assert import_communities(tmp_path / "a-b.duckdb", tmp_path).applied
    assert len(backup.list_backups(tmp_path / "a.duckdb")) == 1
    assert len(backup.list_backups(tmp_path / "a-b.duckdb")) == 1
    assert backup.list_backups(tmp_path / "other.duckdb") == []

    # A backup cut short (power loss) left a temporary file: the next backup of
    # the same database removes it, and only its own.
    folder = backup.backup_dir(tmp_path / "a.duckdb")
    mine = folder / ("a-20250101T000000.000Z-import-9.duckdb" + backup.PARTIAL_SUFFIX)
    theirs = folder / ("a-b-20250101T000000.000Z-import-9.duckdb" + backup.PARTIAL_SUFFIX)
    for path in (mine, theirs):
        path.write_bytes(b"half")
    assert import_communities(tmp_path / "a.duckdb", tmp_path, bump=1).applied
    assert not mine.exists() and theirs.exists()
    assert len(backup.list_backups(tmp_path / "a.duckdb")) == 2


# -- restoring -----------------------------------------------------------------------


def test_restore_round_trip(db_path, tmp_path):
    first = import_communities(db_path, tmp_path, bump=0)
    state_a = file_snapshot(db_path)
    (backup_a,) = backup.list_backups(db_path)
    second = import_communities(db_path, tmp_path, bump=5)
    assert second.applied and file_snapshot(db_path) != state_a
    state_b = file_snapshot(db_path)

    result = backup.restore(db_path, backup_a.path)
    assert result.latest_import_id == first.import_id and result.data_version == 1
    assert file_snapshot(db_path) == state_a
    # The replaced database was kept, whole.
    saved = result.saved_current
    assert saved is not None and saved.name.startswith("before-restore-district-")
    assert file_snapshot(saved) == state_b
    kinds = [b.kind for b in backup.list_backups(db_path)]
    assert sorted(kinds) == ["before_restore", "import", "import"]
    # And the restored database takes imports again.
    assert import_communities(db_path, tmp_path, bump=9).applied


def test_restore_refuses_while_another_process_holds_the_database(db_path, tmp_path):
    assert import_communities(db_path, tmp_path).applied
    (only,) = backup.list_backups(db_path)
    assert import_communities(db_path, tmp_path, bump=3).applied
    before = file_snapshot(db_path)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True);"
         " time.sleep(60)", str(db_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(backup.DatabaseBusy):
            backup.restore(db_path, only.path)
        code, out, err = run_cli("restore", "--db", str(db_path), "--from", only.name, "--yes")
        assert code == EXIT_USAGE
        assert "占用" in err and "不能恢复" in err and "Traceback" not in err
    finally:
        holder.kill()
        holder.wait()
    assert file_snapshot(db_path) == before
    assert [b.kind for b in backup.list_backups(db_path)] == ["import", "import"]


def test_restore_refuses_files_that_are_not_backups(db_path, tmp_path):
    assert import_communities(db_path, tmp_path).applied
    before = file_snapshot(db_path)
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"not a database at all")
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("create table t as select 1 as x").close()
    for path in (junk, other):
        with pytest.raises(backup.NotABackup):
            backup.restore(db_path, path)
        code, _, err = run_cli("restore", "--db", str(db_path), "--from", str(path), "--yes")
        assert code == EXIT_REFUSED and "不是本看板的数据库备份" in err
    with pytest.raises(backup.NotABackup):
        backup.restore(db_path, db_path)
    assert file_snapshot(db_path) == before


def test_restore_into_a_missing_or_damaged_database_file(db_path, tmp_path):
    assert import_communities(db_path, tmp_path).applied
    (only,) = backup.list_backups(db_path)
    expected = file_snapshot(only.path)

    db_path.unlink()
    result = backup.restore(db_path, only.path)
    assert result.saved_current is None
    assert file_snapshot(db_path) == expected

    db_path.write_bytes(b"\x00garbage" * 1000)  # a damaged file is kept, byte for byte
    result = backup.restore(db_path, only.path)
    assert result.saved_current is not None
    assert result.saved_current.read_bytes() == b"\x00garbage" * 1000
    assert file_snapshot(db_path) == expected


def test_prune_keeps_before_restore_copies_apart(db_path, tmp_path, monkeypatch):
    monkeypatch.setenv(backup.KEEP_ENV_VAR, "2")
    assert import_communities(db_path, tmp_path, 0).applied
    oldest = backup.list_backups(db_path)[0]
    backup.restore(db_path, oldest.path)
    for bump in (1, 2, 3):
        assert import_communities(db_path, tmp_path, bump).applied
    kinds = [b.kind for b in backup.list_backups(db_path)]
    assert kinds.count("import") == 2 and kinds.count("before_restore") == 1


# -- command line --------------------------------------------------------------------


def test_cli_backups_and_restore(db_path, tmp_path, monkeypatch):
    code, out, _ = run_cli("backups", "--db", str(db_path))
    assert code == EXIT_OK and "没有数据库" in out

    for bump in (0, 7):
        code, _, err = run_cli("import", "--db", str(db_path), "--table", "communities",
                               str(communities_file(tmp_path, bump)))
        assert code == EXIT_OK, err
    state_b = file_snapshot(db_path)
    code, out, _ = run_cli("backups", "--db", str(db_path))
    assert code == EXIT_OK
    lines = out.splitlines()
    assert "时间为 UTC" in lines[0] and "保留最近 10 份" in lines[0]
    assert "导入编号 2" in lines[1] and "导入编号 1" in lines[2]  # newest first
    assert " MB" in lines[1] and t("backup.kind.import") in lines[1]
    assert "restore --db" in lines[-1]
    first = backup.list_backups(db_path)[0]

    # Without --yes and without a terminal to ask on: a message, nothing changed.
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run_cli("restore", "--db", str(db_path), "--from", first.name)
    assert code == EXIT_USAGE and "--yes" in err
    assert file_snapshot(db_path) == state_b

    code, out, err = run_cli("restore", "--db", str(db_path), "--from", first.name, "--yes")
    assert code == EXIT_OK, err
    assert "已恢复" in out and "最近一次导入编号 1" in out and "before-restore-" in out
    assert file_snapshot(db_path) == file_snapshot(first.path)
    code, out, _ = run_cli("backups", "--db", str(db_path))
    assert t("backup.kind.before_restore") in out

    code, _, err = run_cli("restore", "--db", str(db_path), "--from", "nope.duckdb", "--yes")
    assert code == EXIT_USAGE and "找不到备份" in err and "Traceback" not in err


def test_cli_restore_asks_on_a_terminal(db_path, tmp_path, monkeypatch):
    assert import_communities(db_path, tmp_path).applied
    assert import_communities(db_path, tmp_path, 4).applied
    state_b = file_snapshot(db_path)
    first = backup.list_backups(db_path)[0]

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("no\n"))
    code, out, _ = run_cli("restore", "--db", str(db_path), "--from", first.name)
    assert code == EXIT_REFUSED and "输入 yes 确认" in out and "已取消" in out
    assert file_snapshot(db_path) == state_b
    monkeypatch.setattr(sys, "stdin", Terminal("yes\n"))
    code, out, _ = run_cli("restore", "--db", str(db_path), "--from", first.name)
    assert code == EXIT_OK and "已恢复" in out
