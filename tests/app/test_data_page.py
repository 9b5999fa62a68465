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
    from pages import _context

    conn = _context.connection_for(str(path))
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
    from pages import _context

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
    conn = _context.connection_for(str(app_db))
    shapes = {s.community_id: s for s in boundaries.community_shapes(
        conn, query_params(conn, Period(), ViewFilter()))}
    assert shapes["340403001001"].derived is False
    assert shapes["340403001001"].rings[0] == ring


def test_same_bytes_twice_is_refused_as_a_batch_not_a_crash(app):
    page = _to_data_page(app)
    data = bad_communities_csv().replace(b"-5", b"5").replace("火星社区".encode(), "城市社区".encode())
    data = data.replace(b"X001,\xe4\xb8\x81", b"X004,\xe4\xb8\x81").replace(b"abc", b"300")
    page.file_uploader(key="upload_files").set_value(
        [("a.csv", data, "text/csv"), ("copy of a.csv", data, "text/csv")]
    ).run()
    assert not page.exception, page.exception
    errors = " ".join(e.value for e in page.error)
    assert "校验未通过" in errors
    assert page.button(key="apply_import").disabled


def test_new_communities_and_their_facilities_validate_together(app, app_db):
    page = _to_data_page(app)
    communities = (
        "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
        "N001,新社区,新街道,城市社区,1200,3000,320\n"
    ).encode()
    facilities = "设施编码,社区编码,设施类型\nNF1,N001,综合服务中心\n".encode()
    page.file_uploader(key="upload_files").set_value(
        [("c.csv", communities, "text/csv"), ("f.csv", facilities, "text/csv")]
    ).run()
    assert not page.exception, page.exception
    assert len([s for s in page.success if "校验通过" in s.value]) == 2
    page.button(key="apply_import").click().run()
    assert len([s for s in page.success if "已导入" in s.value]) == 2


def test_hostile_file_names_are_not_rendered_as_markdown(app):
    page = _to_data_page(app)
    name = "![x](http://203.0.113.9/a.png).csv"
    page.file_uploader(key="upload_files").set_value(
        (name, bad_communities_csv(), "text/csv")
    ).run()
    labels = [s.label for s in page.selectbox if "导入到" in s.label]
    assert labels and "](http" not in labels[0] and "\\]\\(http" in labels[0]


def test_a_failed_backup_after_an_import_is_shown_on_the_page(app, app_db):
    import shutil

    from governance import backup

    # The app's start backed up the newest import; then the folder turns into a file.
    shutil.rmtree(backup.backup_dir(app_db), ignore_errors=True)
    backup.backup_dir(app_db).write_text("not a folder")  # the backup cannot be written
    page = _to_data_page(app)
    page.file_uploader(key="upload_files").set_value(
        ("社区基本情况.csv", messy_communities_csv(households_bump=5), "text/csv")
    ).run()
    page.button(key="apply_import").click().run()
    assert not page.exception, page.exception
    assert any("已导入" in s.value for s in page.success)
    assert any("自动备份没有成功" in e.value for e in page.error)


def _sample_warnings(page) -> list[str]:
    return [w.value for w in page.warning if w.value.startswith("示例数据")]


def test_district_import_removes_the_sample_and_the_banner_at_once(app, app_db):
    from tests import district_files

    page = _to_data_page(app)
    assert _sample_warnings(page)
    uploads = [
        (name, build(), "application/octet-stream")
        for name, build in district_files.FILES.values()
    ]
    page.file_uploader(key="upload_files").set_value(uploads).run()
    assert not page.exception, page.exception
    page.button(key="apply_import").click().run()
    assert not page.exception, page.exception
    successes = " ".join(s.value for s in page.success)
    assert "已导入" in successes
    # the run that imported already draws the page from the data as it now is
    assert _sample_warnings(page) == []
    assert not [b for b in page.button if b.key == "sample_clear"]
    # what left is said, with numbers, beside the import's result
    assert "示例数据已全部移除" in successes and "网格事件 35,738 行" in successes
    # and every other page agrees
    page.switch_page("pages/overview.py").run()
    assert not page.exception, page.exception
    assert _sample_warnings(page) == []
    counts = _snapshot_through_app(page, app_db)[0]
    assert counts == (5, district_files.HOUSEHOLDS_TOTAL)


def test_administrator_clears_the_sample_after_confirming(app, app_db):
    page = _to_data_page(app)
    clear = page.button(key="sample_clear")
    assert clear.disabled  # not before the confirmation is ticked
    page.checkbox(key="sample_clear_confirm").check().run()
    page.button(key="sample_clear").click().run()
    assert not page.exception, page.exception
    assert any("已清除示例数据：社区基本信息 117 行" in s.value for s in page.success)
    assert _sample_warnings(page) == []
    assert _snapshot_through_app(page, app_db)[0] == (0, None)
    page.switch_page("pages/overview.py").run()
    assert not page.exception, page.exception
    assert _sample_warnings(page) == []
