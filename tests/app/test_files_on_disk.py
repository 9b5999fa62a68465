"""Files on disk through the app: uploads leave the disk once their import is
applied or refused; a start cleans what a killed backup left, takes the
missing backup and purges old uploads."""

from __future__ import annotations

import json
import os
import stat
from datetime import datetime

import duckdb
from streamlit.testing.v1 import AppTest

from governance import backup, uploads
from tests.app.conftest import TIMEOUT_S
from tests.conftest import PROJECT_DIR, bad_communities_csv, messy_communities_csv


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def stored_files(app_db) -> list:
    root = uploads.upload_root(app_db)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _to_data_page(app):
    app.switch_page("pages/data.py").run()
    assert not app.exception, app.exception
    return app


def test_a_refused_file_leaves_the_disk_once_judged(app, app_db):
    page = _to_data_page(app)
    page.file_uploader(key="upload_files").set_value(
        ("bad.csv", bad_communities_csv(), "text/csv")).run()
    assert not page.exception, page.exception
    assert any("校验未通过" in e.value for e in page.error)
    assert stored_files(app_db) == []
    # Another run with the file still in the uploader judges it again (from the
    # cached report) and still keeps nothing.
    page.run()
    assert any("校验未通过" in e.value for e in page.error)
    assert stored_files(app_db) == []


def test_a_valid_file_waits_private_then_leaves_with_its_import(app, app_db):
    page = _to_data_page(app)
    page.file_uploader(key="upload_files").set_value(
        ("社区.csv", messy_communities_csv(households_bump=3), "text/csv")).run()
    assert not page.exception, page.exception
    (waiting,) = stored_files(app_db)  # kept for the 导入 click
    root = uploads.upload_root(app_db)
    assert mode(waiting) == 0o600 and mode(waiting.parent) == 0o700 and mode(root) == 0o700
    page.button(key="apply_import").click().run()
    assert not page.exception, page.exception
    assert any("已导入" in s.value for s in page.success)
    assert stored_files(app_db) == []


def test_boundary_files_leave_the_disk_when_refused_or_applied(app, app_db):
    page = _to_data_page(app)
    ring = [[117.0, 32.6], [117.01, 32.6], [117.01, 32.61], [117.0, 32.61], [117.0, 32.6]]

    def collection(community_id):
        return json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"community_id": community_id},
             "geometry": {"type": "Polygon", "coordinates": [ring]}}]}).encode()

    page.file_uploader(key="upload_boundaries").set_value(
        ("b.geojson", collection("NOPE"), "application/geo+json")).run()
    assert page.button(key="apply_boundaries").disabled
    assert stored_files(app_db) == []
    page.file_uploader(key="upload_boundaries").set_value(
        ("b2.geojson", collection("340403001001"), "application/geo+json")).run()
    assert len(stored_files(app_db)) == 1
    page.button(key="apply_boundaries").click().run()
    assert any("社区边界" in s.value for s in page.success)
    assert stored_files(app_db) == []


def test_a_start_cleans_up_after_a_killed_backup_and_old_uploads(app_db):
    conn = duckdb.connect(str(app_db))
    try:
        latest = conn.execute("select max(import_id) from import_history").fetchone()[0]
    finally:
        conn.close()
    os.chmod(app_db, 0o644)
    folder = backup.backup_dir(app_db)
    folder.mkdir()
    partial = folder / (backup.import_backup_name(app_db, latest, datetime(2025, 1, 1))
                        + backup.PARTIAL_SUFFIX)
    partial.write_bytes(b"half a copy")
    root = uploads.upload_root(app_db)
    old_session = root / "0123456789abcdef"
    old_session.mkdir(parents=True)
    left = old_session / "left.csv"
    left.write_bytes(b"residents")
    os.utime(left, (0, 0))
    recent = root / "fedcba9876543210" / "recent.csv"
    recent.parent.mkdir()
    recent.write_bytes(b"in use")

    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    assert not partial.exists()
    backups = backup.list_backups(app_db)
    assert [b.import_id for b in backups] == [latest]
    assert mode(backups[0].path) == 0o600 and mode(folder) == 0o700
    assert mode(app_db) == 0o600
    assert not left.exists() and recent.exists()
