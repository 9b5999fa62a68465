"""The sample district's grid events (网格事件): they add up to the monthly safety
reports except a few seeded discrepancies, and behave like a grid system's log."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from governance.contract import INCIDENT_REPORT_COLUMNS, TABLES
from governance.sample import SampleSize, generate_district

DATETIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
MEASURES = [*INCIDENT_REPORT_COLUMNS.values(), "major_criminal_cases"]
AS_OF = pd.Timestamp("2026-01-01 00:00:00")  # end of the latest report month


@pytest.fixture(scope="module")
def district() -> dict[str, pd.DataFrame]:
    return generate_district()


@pytest.fixture(scope="module")
def big() -> dict[str, pd.DataFrame]:
    return generate_district(SampleSize(communities=1170))


def mismatches(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every (community, month, measure) of a month with events where a reported
    count differs from the events counted here; missing report values skipped."""
    events = frames["incidents"]
    events = events.assign(month=events["occurred_at"].str[:7],
                           measure=events["category"].map(INCIDENT_REPORT_COLUMNS))
    logged_months = set(events["month"])
    reconciled = events.dropna(subset=["measure"])
    majors = reconciled[(reconciled["category"] == "criminal")
                        & (reconciled["severity"] == "major")]
    keys = ["community_id", "month", "measure"]
    counted = pd.concat([
        reconciled.groupby(keys).size(),
        majors.assign(measure="major_criminal_cases").groupby(keys).size(),
    ])
    reports = frames["safety"]
    reports = reports[reports["month"].isin(logged_months)]
    reported = (reports.melt(id_vars=["community_id", "month"], value_vars=MEASURES,
                             var_name="measure", value_name="reported")
                .dropna(subset=["reported"])
                .set_index(["community_id", "month", "measure"])["reported"])
    both = pd.DataFrame({"reported": reported}).join(counted.rename("counted"), how="left")
    both["counted"] = both["counted"].fillna(0).astype(int)
    return both[both["reported"] != both["counted"]].reset_index()


# -- reconciliation ---------------------------------------------------------------


def test_events_add_up_to_the_reports_except_five_seeded_discrepancies(district):
    bad = mismatches(district)
    assert len(bad) == 5
    difference = bad["counted"] - bad["reported"]
    assert set(difference) == {1, -1}  # an extra event and a missing one
    assert not bad.duplicated(["community_id", "month"]).any()
    assert set(bad["measure"]) <= set(INCIDENT_REPORT_COLUMNS.values())  # majors always agree


def test_discrepancies_scale_with_the_district(big):
    bad = mismatches(big)
    assert len(bad) == 50
    assert (bad["counted"] - bad["reported"]).abs().eq(1).all()
    assert not bad.duplicated(["community_id", "month"]).any()


def test_months_without_a_report_value_still_get_plausible_events(district):
    safety, events = district["safety"], district["incidents"]
    live = safety[safety["month"] >= "2025-01"]
    gap = live[live["disputes_received"].isna()]
    assert len(gap) > 0
    disputes = events[events["category"] == "dispute"].assign(month=events["occurred_at"].str[:7])
    per_cell = disputes.groupby(["community_id", "month"]).size()
    filled = [per_cell.get((c, m), 0) for c, m in zip(gap["community_id"], gap["month"],
                                                       strict=True)]
    assert sum(filled) > 0
    assert max(filled) <= 3 * live["disputes_received"].max()


# -- shape of the log ------------------------------------------------------------


def test_columns_ids_and_values(district):
    events = district["incidents"]
    assert tuple(events.columns) == TABLES["incidents"].column_names
    assert events["incident_id"].is_unique
    assert events["incident_id"].str.fullmatch(r"SJ\d{12}-\d{6}").all()
    assert (events["incident_id"].str[2:14] == events["community_id"]).all()
    assert set(events["community_id"]) <= set(district["communities"]["community_id"])
    assert events["occurred_at"].str.fullmatch(DATETIME).all()
    assert events["resolved_at"].dropna().str.fullmatch(DATETIME).all()
    # numbered per community in time order
    number = events["incident_id"].str[-6:].astype(int)
    first = events.groupby("community_id").head(1)
    assert (number[first.index] == 1).all()
    assert events.groupby("community_id")["occurred_at"].apply(
        lambda s: s.is_monotonic_increasing).all()


def test_only_the_latest_twelve_months_have_events(district):
    months = sorted(district["incidents"]["occurred_at"].str[:7].unique())
    report_months = sorted(district["safety"]["month"].unique())
    assert len(report_months) == 24
    assert months == report_months[-12:]
    short = generate_district(SampleSize(communities=30, months=5))
    assert sorted(short["incidents"]["occurred_at"].str[:7].unique()) == sorted(
        short["safety"]["month"].unique())


def test_size_lands_in_the_default_range_and_most_events_are_not_reported_ones(district):
    events = district["incidents"]
    assert 20_000 <= len(events) <= 40_000
    unreported = ~events["category"].isin(list(INCIDENT_REPORT_COLUMNS))
    assert 0.5 < unreported.mean() < 0.75
    assert set(events["category"]) == {
        "criminal", "public_order", "fire", "dispute", "mass_incident", "petition",
        "hazard", "environment", "public_facility", "other",
    }


def test_resolution_times_and_statuses(district):
    events = district["incidents"]
    occurred = pd.to_datetime(events["occurred_at"])
    resolved = pd.to_datetime(events["resolved_at"])
    is_resolved = events["status"] == "resolved"
    assert (resolved.notna() == is_resolved).all()  # never resolved_at on an open case
    assert (resolved[is_resolved] >= occurred[is_resolved]).all()
    assert (resolved[is_resolved] < AS_OF).all()
    assert (occurred < AS_OF).all()
    assert 0.95 < is_resolved.mean() < 0.995
    assert {"reported", "in_progress"} <= set(events["status"])

    hours = ((resolved - occurred).dt.total_seconds() / 3600).groupby(events["category"])
    median = hours.median()
    assert 24 < median["dispute"] < 10 * 24
    assert median["hazard"] < 24 and median["environment"] < 24
    assert median["petition"] > median["dispute"] > median["hazard"]

    month = events["occurred_at"].str[:7]
    open_share = (~is_resolved).groupby(month).mean()
    assert open_share["2025-12"] > 5 * open_share.drop("2025-12").max()
    backlog = (~is_resolved & (month < "2025-11")).sum()
    assert 20 <= backlog <= 300  # a small backlog of old open cases


def test_severity_major_only_where_the_reports_require_it(district):
    events, safety = district["incidents"], district["safety"]
    major = events[events["severity"] == "major"]
    assert set(major["category"]) <= {"criminal", "mass_incident"}
    live = safety[safety["month"] >= "2025-01"]
    assert (major["category"] == "criminal").sum() == live["major_criminal_cases"].sum()
    assert (events["severity"] == "serious").mean() < 0.15
    assert (events["severity"] == "general").mean() > 0.8


def test_coordinates_near_the_community_and_a_few_missing(district):
    events = district["incidents"]
    communities = district["communities"].set_index("community_id")
    unlocated_communities = communities.index[communities["lon"].isna()]
    from_unlocated = events["community_id"].isin(unlocated_communities)
    assert events.loc[from_unlocated, "lon"].isna().all()
    rest = events[~from_unlocated]
    assert 0.01 < rest["lon"].isna().mean() < 0.03
    assert (rest["lon"].isna() == rest["lat"].isna()).all()
    located = rest.dropna(subset=["lon"])
    centre = communities.loc[located["community_id"]]
    dy = (located["lat"].to_numpy() - centre["lat"].to_numpy()) * 111_320
    dx = (located["lon"].to_numpy() - centre["lon"].to_numpy()) * 111_320 * math.cos(
        math.radians(32.63))
    distance = np.hypot(dx, dy)
    assert distance.max() < 900  # residences lie within 700 m, events within ~100 m of them
    assert np.median(distance) > 100  # not all piled on the centre point


# -- determinism and size ----------------------------------------------------------


def test_same_seed_same_events_other_seed_other_events(district):
    pd.testing.assert_frame_equal(generate_district()["incidents"], district["incidents"])
    other = generate_district(seed=1)["incidents"]
    assert not other.equals(district["incidents"])


def test_asking_for_n_events_gives_exactly_n_and_touches_nothing_else(district):
    frames = generate_district(SampleSize(incidents=200_000))
    events = frames["incidents"]
    assert len(events) == 200_000
    assert events["incident_id"].is_unique
    for name in TABLES:
        if name != "incidents":
            pd.testing.assert_frame_equal(frames[name], district[name])
    # the reconciled categories are exactly as before, only the others grew
    def reconciled(frame: pd.DataFrame) -> pd.Series:
        mask = frame["category"].isin(list(INCIDENT_REPORT_COLUMNS))
        return frame[mask].assign(month=frame["occurred_at"].str[:7]).groupby(
            ["community_id", "month", "category"]).size()
    pd.testing.assert_series_equal(reconciled(events), reconciled(district["incidents"]))
    pd.testing.assert_frame_equal(mismatches(frames), mismatches(district))
    per_month = events["occurred_at"].str[:7].value_counts()
    assert len(per_month) == 12 and per_month.min() > 0.6 * per_month.max()


def test_too_few_or_no_events():
    with pytest.raises(ValueError, match="below"):
        generate_district(SampleSize(incidents=1_000))
    with pytest.raises(ValueError):
        generate_district(SampleSize(incidents=-1))
    empty = generate_district(SampleSize(communities=20, incidents=0))["incidents"]
    assert empty.empty
    assert tuple(empty.columns) == TABLES["incidents"].column_names
