"""governance.scenarios: only changes are kept, storage round-trips and never
touches the baseline, gap costs by hand, and the comparison."""

from __future__ import annotations

import pandas as pd
import pytest

from governance import auth, scenarios
from governance.catalogue import Standards
from governance.indicators import Period
from governance.text import t
from tests.conftest import load_fixture_sql


def test_from_values_keeps_only_what_differs():
    scenario = scenarios.from_values(
        "x", {"F01": (20.0, 30.0), "M01": (30_000.0, None)},
        {"on_time_days": 30, "service_circle_radius_m": 800},
    )
    assert scenario.thresholds == (("M01", 30_000.0, None),)
    assert scenario.settings == (("service_circle_radius_m", 800.0),)
    assert scenarios.from_values(None, {"F01": (20.0, 30.0)}, {}).is_baseline


def test_unknown_indicator_or_setting_is_refused():
    with pytest.raises(KeyError):
        scenarios.from_values("x", {"Z99": (1.0, None)}, {})
    with pytest.raises(KeyError):
        scenarios.from_values("x", {}, {"no_such_setting": 1})


def test_standards_and_json_round_trip():
    scenario = scenarios.from_values("x", {"F01": (30.0, 35.0)}, {"on_time_days": 15})
    standards = scenario.standards()
    assert standards.indicator("F01").floor == 30.0
    assert standards.settings["on_time_days"] == 15
    assert Standards.default().indicator("F01").floor == 20.0  # the baseline is untouched
    assert scenarios.Scenario.from_json("x", scenario.to_json()) == scenario


TESTER = auth.User("测试", "测试", "leader")


def test_describe_names_each_change_with_before_and_after():
    scenario = scenarios.from_values("x", {"F01": (30.0, 30.0)}, {"on_time_days": 15})
    assert scenarios.describe(scenario) == [
        "F01 每百户办公和活动用房面积：基本值 20 → 30（平方米/百户）",
        "按时到账天数：30 → 15 天",
    ]


def test_save_list_load_replace_delete(memory_conn):
    first = scenarios.from_values(None, {"F01": (30.0, 30.0)}, {})
    stored = scenarios.save_scenario(memory_conn, first, "  三十  ", TESTER)
    assert stored.name == "三十"
    assert scenarios.scenario_version(memory_conn) == 1
    assert list(scenarios.list_scenarios(memory_conn)["name"]) == ["三十"]
    assert scenarios.load_scenario(memory_conn, "三十") == stored
    second = scenarios.from_values(None, {"F01": (25.0, 30.0)}, {})
    scenarios.save_scenario(memory_conn, second, "三十", TESTER)
    listed = scenarios.list_scenarios(memory_conn)
    assert len(listed) == 1 and listed["changes"].iloc[0] == 1
    assert scenarios.load_scenario(memory_conn, "三十").thresholds == (("F01", 25.0, 30.0),)
    assert scenarios.delete_scenario(memory_conn, "三十", TESTER)
    assert not scenarios.delete_scenario(memory_conn, "三十", TESTER)
    assert scenarios.load_scenario(memory_conn, "三十") is None
    assert scenarios.scenario_version(memory_conn) == 4


@pytest.mark.parametrize(
    ("name", "key"),
    [("", "scenario.error.empty_name"), ("基线（政策默认）", "scenario.error.baseline_name"),
     ("长" * 41, "scenario.error.long_name")],
)
def test_refused_names_write_nothing(memory_conn, name, key):
    scenario = scenarios.from_values(None, {"F01": (30.0, 30.0)}, {})
    with pytest.raises(scenarios.ScenarioError) as refused:
        scenarios.save_scenario(memory_conn, scenario, name, TESTER)
    assert str(refused.value) == t(key, limit=scenarios.NAME_MAX)
    assert scenarios.list_scenarios(memory_conn).empty
    assert scenarios.scenario_version(memory_conn) == 0


def test_the_baseline_itself_is_not_saved(memory_conn):
    with pytest.raises(scenarios.ScenarioError):
        scenarios.save_scenario(memory_conn, scenarios.BASELINE, "原样", TESTER)


def test_gap_costs_by_hand():
    communities = pd.DataFrame({
        "community_id": ["A", "B", "C"], "community_name": ["甲", "乙", "丙"],
        "street": ["东", "东", "西"], "community_type": ["urban", "rural", "urban"],
        "households": [2000, 300, 1000], "office_area_m2": [350.0, 50.0, 400.0],
    })
    values = pd.DataFrame({
        "community_id": ["A", "A", "B"], "indicator_id": ["M01", "M02", "M01"],
        "value": [25_000.0, 40_000.0, 5_000.0],
    })
    standards = scenarios.from_values(None, {}, {"space_cost_yuan_per_m2": 1000.0}).standards()
    gaps = scenarios.gap_costs(communities, values, standards).set_index("community_id")
    # A: needs max(2000 × 20 / 100, 300) = 400 m², has 350 → 50 m² = 50,000 元;
    #    office funds met, party 100,000 − 40,000 = 60,000.
    assert gaps.loc["A", "space_gap_m2"] == 50.0
    assert gaps.loc["A", "space_cost_yuan"] == 50_000.0
    assert gaps.loc["A", "party_fund_gap_yuan"] == 60_000.0
    assert gaps.loc["A", "total_cost_yuan"] == 110_000.0
    # B (rural): needs max(60, 100) = 100 m², has 50; office 25,000 − 5,000; party none → all.
    assert gaps.loc["B", "space_gap_m2"] == 50.0
    assert gaps.loc["B", "funding_gap_yuan"] == 20_000.0 + 100_000.0
    # C: space is enough (needs 300); no funding lines → both floors.
    assert gaps.loc["C", "space_gap_m2"] == 0.0
    assert gaps.loc["C", "funding_gap_yuan"] == 125_000.0
    assert list(gaps.index) == ["B", "C", "A"]  # costliest first


def test_compare_on_the_small_fixture(memory_conn):
    load_fixture_sql(memory_conn, "indicators_small")
    period = Period(2024, pd.Timestamp("2024-01-01").date(), pd.Timestamp("2024-03-01").date())
    baseline = scenarios.compare(memory_conn, period, scenarios.BASELINE)
    assert baseline.status_changes.empty and baseline.summary["status_changes"] == 0
    raised = scenarios.from_values("高", {"S06": (97.0, None)}, {})
    comparison = scenarios.compare(memory_conn, period, raised)
    # S06 means: C01 96 → falls below 97. C02 (90) and C03 (95) reported only 2 and
    # 1 of the 3 months: no_data under either standard.
    changed = comparison.status_changes
    assert sorted(changed["community_id"]) == ["C01"]
    assert set(changed["indicator_id"]) == {"S06"}
    assert set(changed["scenario_status"]) == {"not_met"}
    s06 = comparison.totals.set_index("indicator_id").loc["S06"]
    assert (s06["met_baseline"], s06["met_scenario"], s06["change"]) == (1, 0, -1)
    # Rating every community whatever its months brings C03 in (95 < 97), C02 stays unmet.
    rated_all = scenarios.from_values("高", {"S06": (97.0, None)},
                                      {"min_reported_months_pct": 0.0})
    changed = scenarios.compare(memory_conn, period, rated_all).status_changes
    s06 = changed[changed["indicator_id"] == "S06"].set_index("community_id")
    assert s06["scenario_status"].to_dict() == {
        "C01": "not_met", "C02": "not_met", "C03": "not_met"}
    assert s06.loc["C03", "baseline_status"] == "no_data"


def test_gap_costs_of_an_empty_view():
    communities = pd.DataFrame({c: pd.Series(dtype="object") for c in (
        "community_id", "community_name", "street", "community_type")}).assign(
        households=pd.Series(dtype="int64"), office_area_m2=pd.Series(dtype="float64"))
    values = pd.DataFrame({"community_id": pd.Series(dtype="object"),
                           "indicator_id": pd.Series(dtype="object"),
                           "value": pd.Series(dtype="float64")})
    standards = scenarios.from_values(None, {"F01": (30.0, 30.0)}, {}).standards()
    assert scenarios.gap_costs(communities, values, standards).empty


def test_an_edited_scenario_keeps_a_name_only_while_it_is_unchanged():
    saved = scenarios.from_values("十五分钟圈", {"F01": (30.0, 30.0)}, {})
    same = scenarios.from_values(None, {"F01": (30.0, 30.0)}, {})
    edited = scenarios.from_values(None, {"F01": (25.0, 30.0)}, {})
    assert scenarios.named_as(same, saved).name == "十五分钟圈"
    assert scenarios.named_as(edited, saved).name is None
    assert scenarios.named_as(same, scenarios.BASELINE).name is None
    assert scenarios.same_changes(scenarios.named_as(edited, saved), edited)


# --- who may change a saved scenario ----------------------------------------------

LEADER_A = auth.User("wang", "王", "leader")
LEADER_B = auth.User("li", "李", "leader")
ADMIN = auth.User("admin", "管理员", "admin")
STREET = auth.User("jie", "东关街道办", "street", ("东关街道",))


def test_a_leader_deletes_and_overwrites_only_their_own(memory_conn):
    raised = scenarios.from_values(None, {"F01": (30.0, 30.0)}, {})
    scenarios.save_scenario(memory_conn, raised, "王的情景", LEADER_A)
    assert scenarios.owner(memory_conn, "王的情景") == "wang"
    version = scenarios.scenario_version(memory_conn)
    with pytest.raises(scenarios.ScenarioError) as refused:
        scenarios.delete_scenario(memory_conn, "王的情景", LEADER_B)
    assert "由 wang 保存" in str(refused.value)
    with pytest.raises(scenarios.ScenarioError):
        scenarios.save_scenario(memory_conn, scenarios.from_values(
            None, {"F01": (25.0, 30.0)}, {}), "王的情景", LEADER_B)
    # nothing changed, not even the version
    assert scenarios.load_scenario(memory_conn, "王的情景") == raised.__class__(
        "王的情景", raised.thresholds, raised.settings)
    assert scenarios.scenario_version(memory_conn) == version
    # the owner may, and so may an administrator
    scenarios.save_scenario(memory_conn, raised, "王的情景", LEADER_A)
    assert scenarios.delete_scenario(memory_conn, "王的情景", ADMIN)


def test_a_street_account_saves_and_deletes_nothing(memory_conn):
    raised = scenarios.from_values(None, {"F01": (30.0, 30.0)}, {})
    with pytest.raises(scenarios.ScenarioError):
        scenarios.save_scenario(memory_conn, raised, "街道情景", STREET)
    scenarios.save_scenario(memory_conn, raised, "区里的", ADMIN)
    with pytest.raises(scenarios.ScenarioError):
        scenarios.delete_scenario(memory_conn, "区里的", STREET)
    assert list(scenarios.list_scenarios(memory_conn)["name"]) == ["区里的"]


def test_compare_values_of_scope_values_narrowed_equals_compare_of_the_filter(memory_conn):
    """The scenarios page compares the cached scope-wide values narrowed to its
    filter (compare_values); the result must be compare()'s for that filter."""
    from governance import indicators
    from governance.indicators import ViewFilter

    load_fixture_sql(memory_conn, "indicators_small")
    period = Period(2024, pd.Timestamp("2024-01-01").date(), pd.Timestamp("2024-03-01").date())
    raised = scenarios.from_values("高", {"S06": (97.0, None), "F01": (40.0, None)}, {})
    view_filter = ViewFilter(streets=("东湖街道",))

    def narrowed(standards):
        return indicators.within_filter(
            indicators.indicator_values(memory_conn, period, ViewFilter(), standards),
            view_filter).to_pandas()

    communities = indicators.within_filter(
        indicators.communities_in_scope(memory_conn), view_filter).to_pandas()
    mine = scenarios.compare_values(raised, narrowed(scenarios.BASELINE.standards()),
                                    narrowed(raised.standards()), communities)
    own = scenarios.compare(memory_conn, period, raised, view_filter)
    assert mine.summary == own.summary and own.summary["communities"] == 2
    assert own.summary["status_changes"] > 0
    for name in ("status_changes", "totals", "gaps"):
        pd.testing.assert_frame_equal(getattr(mine, name), getattr(own, name), check_dtype=False)
