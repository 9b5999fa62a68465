"""Day one of a real district: the sample loaded on first start, then the
district's own messy exports imported. Every page shows the district, never
the sample, and coverage rests on the community centres (no buildings yet).

Expected figures are hand-computed in tests/district_files.py."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from governance import db, importer, sample_rows
from governance.text import t
from tests import district_files
from tests.app.conftest import TIMEOUT_S
from tests.conftest import PROJECT_DIR


@pytest.fixture
def district_app(app_db, tmp_path) -> AppTest:
    paths = district_files.write_district(tmp_path / "exports")
    sources = [importer.SourceFile(p, table, p.name) for table, p in paths.items()]
    results = importer.import_files(app_db, sources, applied_by="区民政局")
    assert all(r.applied for r in results), [r.report.messages() for r in results]
    conn = db.connect(app_db, read_only=True)
    try:
        assert sample_rows.tables_present(conn) == []
    finally:
        conn.close()
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    return at


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _no_sample_banner(at) -> None:
    assert not [w.value for w in at.warning if "示例数据" in w.value]


@pytest.mark.parametrize("page", [
    "pages/overview.py", "pages/facilities.py", "pages/funding.py", "pages/safety.py",
    "pages/scenarios.py", "pages/data.py",
])
def test_no_page_shows_the_sample_banner(district_app, page):
    district_app.switch_page(page).run()
    assert not district_app.exception, district_app.exception
    _no_sample_banner(district_app)


def test_overview_counts_the_district(district_app):
    district_app.switch_page("pages/overview.py").run()
    assert _metric(district_app, t("overview.kpi.communities")) == "5"
    assert _metric(district_app, t("overview.kpi.households")) == "5,000"


def test_coverage_rests_on_centres_and_is_right(district_app):
    page = district_app.switch_page("pages/facilities.py").run()
    assert not page.exception, page.exception
    # 1,800 of 5,000 households within 500 m walking of a service centre in use
    assert _metric(page, t("facilities.kpi.coverage")) == "36.0%"
    assert _metric(page, t("facilities.kpi.uncovered")) == "3,200"
    assert _metric(page, t("facilities.kpi.no_data")) == "0"
    captions = [c.value for c in page.caption]
    assert any(c.startswith("未导入楼栋/网格数据：5 个社区均按社区中心点") for c in captions)
    table = next(d.value for d in page.dataframe
                 if t("coverage.column.basis") in d.value.columns)
    assert set(table[t("coverage.column.basis")]) == {t("facilities.basis.centroids")}


def test_closing_a_service_centre_loses_its_households(district_app):
    page = district_app.switch_page("pages/facilities.py").run()
    page.multiselect(key="closed_facilities").set_value(["HB-F001"]).run()
    assert not page.exception, page.exception
    summary = next(i.value for i in page.info if "推演结果" in i.value)
    assert "失去覆盖 1,000 户" in summary and "新增覆盖 0 户" in summary


def test_a_proposed_centre_covers_east_mountain(district_app):
    page = district_app.switch_page("pages/facilities.py").run()
    # 0.002° north of 东山村's centre: 222 m straight, 278 m walking
    page.text_area(key="proposals_text").input("117.050,32.602").run()
    assert not page.exception, page.exception
    summary = next(i.value for i in page.info if "推演结果" in i.value)
    assert "新增覆盖 500 户" in summary
    assert _metric(page, t("facilities.kpi.coverage")) == "46.0%"


def test_f03_in_the_matrix_equals_the_coverage_page(district_app):
    page = district_app.switch_page("pages/overview.py").run()
    # AppTest reads the frame behind the grid: columns by id, labels by config
    matrix = next(d.value for d in page.dataframe if "F03" in d.value.columns)
    by_name = dict(zip(matrix["community_name"], matrix["F03"], strict=True))
    expected = dict(zip(district_files.NAMES,
                        district_files.F03_BY_COMMUNITY.values(), strict=True))
    assert {k: float(v) for k, v in by_name.items()} == pytest.approx(expected)
