"""设施覆盖 page through AppTest: coverage figures, what-if, standards table."""

from __future__ import annotations

import pytest

from governance import coverage, facility_view
from governance.indicators import ViewFilter
from governance.text import t
from pages import _context


def _open(app):
    app.switch_page("pages/facilities.py").run()
    assert not app.exception, app.exception
    return app


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


BASELINE = facility_view.CoverageRequest()


def _expected_view(app_db, request=BASELINE):
    return facility_view.coverage_view(_context.connection_for(str(app_db)), request)


def test_default_view_shows_ten_minute_service_centre_coverage(app, app_db):
    page = _open(app)
    view = _expected_view(app_db)
    communities = view.communities
    rated = communities[communities["coverage_after_pct"].notna()]
    expected = rated["households_covered_after"].sum() * 100 / rated["households_total"].sum()
    assert _metric(page, t("facilities.kpi.coverage")) == f"{expected:.1f}%"
    assert 0 < expected < 100  # the sample district has gaps
    uncovered = int(rated["households_total"].sum() - rated["households_covered_after"].sum())
    assert _metric(page, t("facilities.kpi.uncovered")) == f"{uncovered:,}"
    assert any(coverage.basis_text(view.basis) == c.value for c in page.caption)


def test_wider_circle_covers_more_households(app, app_db):
    page = _open(app)
    before = float(_metric(page, t("facilities.kpi.coverage")).rstrip("%"))
    page.selectbox(key="coverage_circle").set_value("15min").run()
    assert not page.exception
    after = float(_metric(page, t("facilities.kpi.coverage")).rstrip("%"))
    assert after > before


def test_closing_a_service_centre_loses_households(app, app_db):
    page = _open(app)
    picker = page.multiselect(key="closed_facilities")
    first = picker.options[0]
    facility_id = next(k for k, v in facility_view.closable_facilities(
        facility_view.facilities_in_scope(_context.connection_for(str(app_db)), ViewFilter()),
        "service_center").items() if v == first)
    picker.set_value([facility_id]).run()
    assert not page.exception
    expected = _expected_view(app_db, facility_view.CoverageRequest(closed=(facility_id,)))
    lost = expected.district["households_lost"]
    assert lost > 0
    summary = next(i.value for i in page.info if "推演结果" in i.value)
    assert f"失去覆盖 {lost:,} 户" in summary


def test_proposed_site_by_coordinates_covers_an_uncovered_spot(app, app_db):
    page = _open(app)
    view = _expected_view(app_db)
    spot = view.points[~view.points["covered"]].sort_values("households").iloc[-1]
    page.text_area(key="proposals_text").input(f"{spot['lon']:.7f},{spot['lat']:.7f}").run()
    assert not page.exception, page.exception
    proposal = facility_view.Proposal(float(f"{spot['lon']:.7f}"), float(f"{spot['lat']:.7f}"))
    expected = _expected_view(app_db, facility_view.CoverageRequest(added=(proposal,)))
    newly = expected.district["households_newly_covered"]
    assert newly >= spot["households"] > 0
    summary = next(i.value for i in page.info if "推演结果" in i.value)
    assert f"新增覆盖 {newly:,} 户" in summary
    assert float(_metric(page, t("facilities.kpi.coverage")).rstrip("%")) == pytest.approx(
        expected.district["coverage_pct"], abs=0.05
    )


def test_unreadable_proposal_lines_are_named_not_guessed(app):
    page = _open(app)
    page.text_area(key="proposals_text").input("117.01,32.6\nabc\n117.02，32.61").run()
    warnings = [w.value for w in page.warning if "无法识别" in w.value]
    assert len(warnings) == 1 and "第 2 行" in warnings[0]


def test_standards_table_lists_f01_to_f05_for_every_community(app, app_db):
    page = _open(app)
    table = next(d.value for d in page.dataframe if "F05" in d.value.columns)
    assert {"F01", "F02", "F03", "F04", "F05"} <= set(table.columns)
    assert len(table) == 117


def test_map_spec_has_shapes_points_and_facilities_and_no_basemap(app, app_db):
    import json

    page = _open(app)
    charts = page.get("deck_gl_json_chart")
    assert len(charts) == 1
    spec = json.loads(charts[0].proto.json)
    assert spec.get("mapStyle") == "__MAP_STYLE__" and spec.get("mapProvider") is None
    layers = {layer["id"]: layer for layer in spec["layers"]}
    assert {"communities", "residences", "facilities", "community_labels", "scale_bar"} <= set(
        layers)
    view = _expected_view(app_db)
    # Small district: not aggregated; buildings and community centres in layers of their own.
    on_residences = view.points[view.points["basis"] == "residences"]
    assert len(layers["residences"]["data"]) == len(on_residences)
    assert len(layers.get("centroids", {"data": []})["data"]) == len(view.points) - len(
        on_residences)
    assert len(layers["communities"]["data"]) == len(view.shapes)
    uncovered_red = [p for p in layers["residences"]["data"] if p["fill"][0] == 198]
    assert len(uncovered_red) == int((~on_residences["covered"]).sum())
    # Names on the map, and the legend beside it says what the colours mean.
    labels = {row["text"] for row in layers["community_labels"]["data"]}
    assert labels and labels <= set(view.communities["community_name"])
    legend = next(m.value for m in page.markdown if "map-legend" in m.value)
    for key in ("map.legend.coverage", "map.legend.basis", "map.legend.residence.uncovered"):
        assert t(key) in legend
    assert t("map.legend.facility.focus", type="综合服务中心") in legend


def test_greyed_radius_shows_the_preset_radius_in_use(app):
    page = _open(app)
    radius = next(n for n in page.number_input if n.label == t("facilities.radius"))
    assert radius.disabled and radius.value == 500
    page.selectbox(key="coverage_circle").set_value("15min").run()
    radius = next(n for n in page.number_input if n.label == t("facilities.radius"))
    assert radius.disabled and radius.value == 1000
    page.selectbox(key="coverage_circle").set_value("custom").run()
    radius = next(n for n in page.number_input if n.label == t("facilities.radius"))
    assert not radius.disabled
    radius.set_value(700).run()
    assert not page.exception
    assert next(n for n in page.number_input if n.label == t("facilities.radius")).value == 700


def test_tables_show_words_not_codes(app):
    from governance.contract import COMMUNITY_TYPE

    page = _open(app)
    labels = {c.label for c in COMMUNITY_TYPE.codes}
    typed = [d.value for d in page.dataframe if "社区类型" in d.value.columns]
    assert typed, "a table with community types is shown"
    for frame in typed:
        assert set(frame["社区类型"].dropna()) <= labels


def test_filters_matching_no_community_say_so_instead_of_failing(app, app_db):
    page = _open(app)
    communities = _context.connection_for(str(app_db)).sql(
        "select street, community_type from communities").fetchall()
    street = sorted({s for s, _ in communities})[0]
    absent = next(ty for ty in ("resettlement", "rural", "urban_village", "old_town", "urban")
                  if (street, ty) not in communities)
    page.multiselect(key="filter_streets").set_value([street]).run()
    page.multiselect(key="filter_types").set_value([absent]).run()
    assert not page.exception, page.exception
    assert [i.value for i in page.info][-1] == t("overview.empty")
    assert not page.get("deck_gl_json_chart")
