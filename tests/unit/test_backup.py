"""Backups after committed imports, and restoring one (governance/backup.py)."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from governance import auth, backup, boundaries, db, importer, private_files, reports
from governance.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from governance.contract import TABLES
from governance.text import t
from tests.conftest import (
    PROJECT_DIR,
    SAMPLE_DIR,
    bad_communities_csv,
    messy_communities_csv,
)

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
        result = boundaries.import_boundaries(conn, geojson, user=auth.User("t", "t", "admin"))
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
    assert db.database_path(memory_conn) is None
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


# -- files on disk: modes, and what a killed backup leaves ------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The loosest umask: every mode below is set by the code, not inherited."""
    before = os.umask(0)
    yield
    os.umask(before)


def test_database_backups_and_restored_database_are_private_whatever_the_umask(
        tmp_path, open_umask):
    data_dir = tmp_path / "made-by-us" / "data"
    db_path = data_dir / "district.duckdb"
    first = import_communities(db_path, tmp_path)
    assert first.applied
    assert mode(db_path) == 0o600 and mode(data_dir) == 0o700
    folder = backup.backup_dir(db_path)
    assert mode(folder) == 0o700
    assert [mode(b.path) for b in backup.list_backups(db_path)] == [0o600]

    # A database file someone left open to others is made private when opened.
    os.chmod(db_path, 0o644)
    db.connect(db_path).close()
    assert mode(db_path) == 0o600

    # Restoring over a 0644 file: the restored file and the saved copy are 0600.
    assert import_communities(db_path, tmp_path, bump=3).applied
    os.chmod(db_path, 0o644)
    result = backup.restore(db_path, backup.list_backups(db_path)[0].path)
    assert mode(db_path) == 0o600 and mode(result.saved_current) == 0o600
    # Likewise the byte copy of a damaged database.
    db_path.write_bytes(b"\x00garbage" * 100)
    os.chmod(db_path, 0o644)
    result = backup.restore(db_path, backup.list_backups(db_path)[0].path)
    assert mode(result.saved_current) == 0o600 and mode(db_path) == 0o600
    assert all(mode(entry) == 0o600 for entry in folder.iterdir())


def test_a_folder_someone_pointed_us_at_keeps_its_mode(tmp_path, open_umask, caplog):
    theirs = tmp_path / "srv"
    theirs.mkdir()
    os.chmod(theirs, 0o750)
    db.connect(theirs / "district.duckdb").close()
    assert mode(theirs) == 0o750  # not ours to change
    assert mode(theirs / "district.duckdb") == 0o600
    assert "make it 0700" in caplog.text
    # The default data folder is ours: made private.
    ours = tmp_path / "data"
    ours.mkdir()
    os.chmod(ours, 0o755)
    private_files.database_dir(ours, ours=True)
    assert mode(ours) == 0o700


KILL_MID_BACKUP = """
import os, sys
from pathlib import Path
from governance import backup, importer

def killed(path):  # the copy is written under its temporary name: die before the rename
    os.kill(os.getpid(), 9)

backup._fsync_file = killed
importer.import_file(sys.argv[1], importer.SourceFile(Path(sys.argv[2]), "communities"),
                     applied_by="tester")
"""


def _import_killed_mid_backup(db_path: Path, source: Path) -> None:
    done = subprocess.run([sys.executable, "-c", KILL_MID_BACKUP, str(db_path), str(source)],
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr


def test_a_backup_killed_half_way_is_cleaned_and_taken_at_the_next_open(db_path, tmp_path):
    assert import_communities(db_path, tmp_path).applied
    _import_killed_mid_backup(db_path, communities_file(tmp_path, 5))
    folder = backup.backup_dir(db_path)
    partials = [p for p in folder.iterdir() if backup.PARTIAL_SUFFIX in p.name]
    assert partials  # the killed process left its temporary copy
    # Another database's leftovers in the same folder, and a killed restore's copy.
    theirs = folder / ("other-20250101T000000.000Z-import-9.duckdb" + backup.PARTIAL_SUFFIX)
    theirs.write_bytes(b"half")
    before = folder / ("before-restore-district-20250101T000000.000Z.duckdb.wal"
                       + backup.PARTIAL_SUFFIX)
    before.write_bytes(b"half")
    restore_copy = db_path.with_name("." + db_path.name + ".restore-0a1b2c3d")
    restore_copy.write_bytes(b"half")
    not_ours = db_path.with_name(".other.duckdb.restore-0a1b2c3d")
    not_ours.write_bytes(b"half")
    reader = duckdb.connect(str(db_path))
    try:
        latest = reader.execute("select max(import_id) from import_history").fetchone()[0]
    finally:
        reader.close()
    assert [b.import_id for b in backup.list_backups(db_path)] == [latest - 1]

    # The command line opens the database (here for an import that changes nothing).
    code, out, err = run_cli("import", "--db", str(db_path), "--table", "communities",
                             str(communities_file(tmp_path, 5)))
    assert code == EXIT_OK, err
    assert not [p for p in folder.iterdir()
                if backup.PARTIAL_SUFFIX in p.name and p != theirs]
    assert theirs.exists() and not before.exists()
    assert not restore_copy.exists() and not_ours.exists()
    backups = backup.list_backups(db_path)
    assert [b.import_id for b in backups] == [latest - 1, latest]
    assert file_snapshot(backups[-1].path)["communities"] == file_snapshot(db_path)["communities"]
    assert mode(backups[-1].path) == 0o600

    # Opening again takes nothing more.
    conn = db.connect(db_path)
    try:
        assert backup.recover(conn) is None
    finally:
        conn.close()
    assert len(backup.list_backups(db_path)) == 2


def test_recover_takes_nothing_when_backups_are_off_or_there_is_no_import(
        db_path, tmp_path, monkeypatch):
    conn = db.connect(db_path)
    try:
        assert backup.recover(conn) is None  # nothing imported yet
        assert not backup.backup_dir(db_path).exists()
    finally:
        conn.close()
    monkeypatch.setenv(backup.KEEP_ENV_VAR, "0")
    assert import_communities(db_path, tmp_path).applied
    conn = db.connect(db_path)
    try:
        assert backup.recover(conn) is None and backup.list_backups(db_path) == []
    finally:
        conn.close()
