"""数据管理 page through AppTest: upload, validation report, apply, history."""

from __future__ import annotations

from governance import db
from governance.text import t
from tests.conftest import bad_communities_csv, messy_communities_csv


def _to_data_page(app):
    app.switch_page("pages/data.py").run()
    assert not app.exception, app.exception
    return app


def test_gbk_export_with_title_and_total_row_imports(app, app_db):
    page = _to_data_page(app)
    page.file_uploader(key="upload_files").set_value(
        ("社区基本情况.csv", messy_communities_csv(households_bump=10), "text/csv")
    ).run()
    assert not page.exception, page.exception
    assert any(s.value.startswith(t("data.validate.ok", rows="117")[:4]) for s in page.success)
    page.button(key="apply_import").click().run()
    assert not page.exception, page.exception
    assert any("已导入" in s.value and "117" in s.value for s in page.success)
    history = page.dataframe[-1].value
    assert history.iloc[0][t("history.file_name")] == "社区基本情况.csv"


def test_bad_file_is_refused_with_row_reasons_and_changes_nothing(app, app_db):
    page = _to_data_page(app)
    before = _snapshot_through_app(page, app_db)
    page.file_uploader(key="upload_files").set_value(
        ("bad.csv", bad_communities_csv(), "text/csv")
    ).run()
    assert not page.exception, page.exception
    assert any("校验未通过" in e.value for e in page.error)
    problems = page.dataframe[0].value
    rows = set(problems[t("column.row")].dropna().astype(int))
    assert {3, 4, 5} <= rows
    reasons = " ".join(problems[t("column.reason")])
    assert "不能小于 0" in reasons and "不是可接受的取值" in reasons
    apply_button = page.button(key="apply_import")
    assert apply_button.disabled
    assert _snapshot_through_app(page, app_db) == before


def _snapshot_through_app(page, path):
    """Read counts through the app's own cached connection (the file is locked by it)."""
    from pages import _common

    conn = _common._connection(str(path))
    cur = conn.cursor()
    try:
        return (
            cur.execute("select count(*), sum(households) from communities").fetchone(),
            cur.execute("select count(*) from import_history").fetchone(),
            db.get_meta(cur, "data_version"),
        )
    finally:
        cur.close()


def test_geojson_boundaries_upload_validates_and_applies(app, app_db):
    import json

    from governance import boundaries
    from governance.indicators import Period, ViewFilter, query_params
    from pages import _common

    page = _to_data_page(app)
    ring = [[117.0, 32.6], [117.01, 32.6], [117.01, 32.61], [117.0, 32.61], [117.0, 32.6]]
    bad = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"community_id": "NOPE"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    page.file_uploader(key="upload_boundaries").set_value(
        ("b.geojson", json.dumps(bad).encode(), "application/geo+json")).run()
    assert any("校验未通过" in e.value for e in page.error)
    assert page.button(key="apply_boundaries").disabled

    good = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"社区编码": "340403001001"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}
    page.file_uploader(key="upload_boundaries").set_value(
        ("b2.geojson", json.dumps(good).encode(), "application/geo+json")).run()
    assert not page.exception
    page.button(key="apply_boundaries").click().run()
    assert any("社区边界" in s.value and "1 行" in s.value for s in page.success)
    conn = _common._connection(str(app_db))
    shapes = {s.community_id: s for s in boundaries.community_shapes(
        conn, query_params(conn, Period(), ViewFilter()))}
    assert shapes["340403001001"].derived is False
    assert shapes["340403001001"].rings[0] == ring
