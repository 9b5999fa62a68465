"""The sample district: reproducible, shaped like the policy seeds, contract-clean."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from governance import db, sample, sample_loader, sample_rows
from governance.contract import TABLES
from governance.sample import SampleSize, generate_district, write_sample
from governance.sample_loader import SAMPLE_DIR

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$")
VOLUNTEER_TOLERANCE = 0.01  # 001: 2480 volunteers; we allow ±1 %


@pytest.fixture(scope="module")
def district() -> dict[str, pd.DataFrame]:
    return generate_district()


@pytest.fixture(scope="module")
def big() -> dict[str, pd.DataFrame]:
    return generate_district(SampleSize(communities=1170))


def _contract_violations(name: str, frame: pd.DataFrame, community_ids: set[str]) -> list[str]:
    """Every contract rule checked on every row; returns descriptions of failures."""
    table = TABLES[name]
    problems: list[str] = []
    for column in table.columns:
        values = frame[column.name]
        present = values.notna()
        if column.required and not present.all():
            problems.append(f"{name}.{column.name}: required but empty")
        data = values[present]
        if column.kind in ("int", "number", "money", "percent", "year"):
            numbers = pd.to_numeric(data)
            if column.minimum is not None and (numbers < column.minimum).any():
                problems.append(f"{name}.{column.name}: below {column.minimum}")
            if column.maximum is not None and (numbers > column.maximum).any():
                problems.append(f"{name}.{column.name}: above {column.maximum}")
            if column.kind in ("int", "year") and not (numbers == numbers.round()).all():
                problems.append(f"{name}.{column.name}: not integer")
        if column.kind == "enum":
            codes = {item.code for item in column.enum.codes}
            bad = set(data) - codes
            if bad:
                problems.append(f"{name}.{column.name}: unknown codes {sorted(bad)[:5]}")
        if column.kind == "date" and not data.map(lambda v: bool(DATE.match(v))).all():
            problems.append(f"{name}.{column.name}: not ISO dates")
        if column.kind == "datetime" and not data.map(lambda v: bool(DATETIME.match(v))).all():
            problems.append(f"{name}.{column.name}: not YYYY-MM-DD HH:MM:SS")
        if column.kind == "year_month" and not data.map(lambda v: bool(MONTH.match(v))).all():
            problems.append(f"{name}.{column.name}: not YYYY-MM")
        if column.kind == "text" and not data.map(lambda v: isinstance(v, str) and v != "").all():
            problems.append(f"{name}.{column.name}: not non-empty text")
        if column.not_above:
            both = present & frame[column.not_above].notna()
            if (frame.loc[both, column.name] > frame.loc[both, column.not_above]).any():
                problems.append(f"{name}.{column.name} > {column.not_above}")
        if column.not_before:
            both = present & frame[column.not_before].notna()
            if (frame.loc[both, column.name] < frame.loc[both, column.not_before]).any():
                problems.append(f"{name}.{column.name} < {column.not_before}")
    if table.key and frame.duplicated(list(table.key)).any():
        problems.append(f"{name}: duplicate key {table.key}")
    if table.references_communities and not set(frame["community_id"]) <= community_ids:
        problems.append(f"{name}: community_id not in communities")
    return problems


# -- determinism and the shipped files ------------------------------------------------


def test_same_seed_gives_identical_frames(district):
    again = generate_district()
    for name in TABLES:
        pd.testing.assert_frame_equal(district[name], again[name])


def test_another_seed_gives_another_district(district):
    other = generate_district(seed=1)
    assert not other["communities"].equals(district["communities"])


def test_write_sample_reproduces_the_shipped_csvs_byte_for_byte(tmp_path):
    written = write_sample(tmp_path)
    assert set(written) == set(TABLES)
    for name, path in written.items():
        shipped = SAMPLE_DIR / f"{name}.csv"
        assert shipped.is_file(), f"run write_sample(SAMPLE_DIR): {shipped} missing"
        assert path.read_bytes() == shipped.read_bytes(), name


def test_shipped_csvs_are_utf8_with_english_headers_and_lf():
    for name, table in TABLES.items():
        raw = (SAMPLE_DIR / f"{name}.csv").read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf")
        assert b"\r\n" not in raw
        header = raw.decode("utf-8").split("\n", 1)[0]
        assert header.split(",") == list(table.column_names)


# -- canonical form and contract rules -----------------------------------------------


def test_columns_are_the_canonical_contract_names(district):
    for name, frame in district.items():
        assert tuple(frame.columns) == TABLES[name].column_names
        assert "import_id" not in frame.columns


@pytest.mark.parametrize("size", ["default", "big"])
def test_every_row_satisfies_the_contract(size, district, big):
    frames = district if size == "default" else big
    ids = set(frames["communities"]["community_id"])
    problems = []
    for name in TABLES:
        problems += _contract_violations(name, frames[name], ids)
    assert problems == []


# -- the shape the seeds describe ----------------------------------------------------


def test_117_communities_in_9_streets_and_4_towns(district):
    c = district["communities"]
    assert len(c) == 117
    streets = c["street"].unique()
    assert len(streets) == 13
    assert sum(s.endswith("街道") for s in streets) == 9
    assert sum(s.endswith("镇") for s in streets) == 4
    assert c["community_id"].str.fullmatch(r"340403\d{6}").all()
    assert c["community_id"].iloc[0] == "340403001001"
    assert set(c["community_type"]) == {"urban", "rural", "resettlement", "old_town",
                                        "urban_village"}
    towns = c[c["street"].str.endswith("镇")]
    assert (towns["community_type"] == "rural").mean() > 0.7
    assert (c.loc[c["community_type"] == "rural", "street"].str.endswith("镇")).all()


def test_office_space_matches_seed_001(district):
    area = district["communities"].set_index("community_type")["office_area_m2"]
    assert (area > 1000).sum() == 3
    assert (area > 600).sum() == 16
    urban_like = area.drop("rural", errors="ignore")
    # "大部分社区仅达到300平方米左右"
    assert urban_like.between(200, 400).mean() > 0.5
    assert 250 <= urban_like.median() <= 350
    # old town / urban village: some far below
    cramped = area.loc[["old_town", "urban_village"]]
    assert (cramped < 200).sum() >= 3
    assert area.loc["rural"].between(80, 300).all()


def test_households_population_and_workers(district):
    c = district["communities"]
    rural = c["community_type"] == "rural"
    assert c.loc[~rural, "households"].between(900, 5000).all()
    assert c.loc[rural, "households"].between(400, 1300).all()
    ratio = c["population"] / c["households"]
    assert ratio.between(2.39, 3.01).all()
    elderly = (c["elderly_population"] / c["population"]).dropna()
    assert elderly.between(0.149, 0.251).all()
    assert c.loc[~rural, "staff_count"].between(6, 15).all()
    assert c.loc[rural, "staff_count"].between(4, 8).all()
    pay = c["staff_avg_monthly_pay"].dropna()
    assert pay.between(1800, 2600).all()
    assert abs(pay.mean() - 2000) < 100  # 001: 每月生活补贴平均在2000元左右
    assert c["committee_members"].dropna().between(3, 9).all()
    required = np.select([c["households"] <= 1000, c["households"] <= 3000], [5, 7], 9)
    assert (c["committee_members"] < required).sum() >= 5  # some below the band


def test_volunteers_total_about_2480(district):
    total = district["communities"]["volunteers"].sum()
    assert abs(total - 2480) <= 2480 * VOLUNTEER_TOLERANCE


def test_some_values_are_missing_so_no_data_cases_exist(district):
    c = district["communities"]
    assert c["lon"].isna().sum() == 3
    assert (c["lon"].isna() == c["lat"].isna()).all()
    for column in ("elderly_population", "staff_avg_monthly_pay", "volunteers"):
        assert c[column].isna().any(), column
    located = c.dropna(subset=["lon"])
    assert located["lon"].between(116.8, 117.2).all()
    assert located["lat"].between(32.45, 32.8).all()


def test_facilities_cover_imperfectly(district):
    f, c = district["facilities"], district["communities"]
    assert f["facility_id"].is_unique
    centres = f[f["facility_type"] == "service_center"]
    in_use = centres[centres["status"] == "in_use"]
    assert 0.85 * len(c) < centres["community_id"].nunique() < len(c)
    assert in_use["community_id"].nunique() < centres["community_id"].nunique()
    assert centres["facility_name"].str.endswith("党群服务中心").all()
    for kind in ("culture", "sports", "health", "police", "elderly_daycare"):
        share = f.loc[f["facility_type"] == kind, "community_id"].nunique() / len(c)
        assert 0.5 < share < 1.0, kind
    homes = f.loc[f["facility_type"] == "elderly_home", "community_id"].nunique()
    assert 0 < homes < 0.1 * len(c)
    assert {"building", "planned", "closed"} <= set(f["status"])
    assert (f["status"] == "in_use").mean() > 0.85
    elderly = f[f["facility_type"].isin(["elderly_daycare", "elderly_home"])]
    assert elderly["capacity"].notna().all()
    assert f.loc[~f.index.isin(elderly.index), "capacity"].isna().all()


def test_funding_lines_follow_seed_001_and_000(district):
    fu, c = district["funding"], district["communities"]
    assert sorted(fu["year"].unique()) == [2023, 2024, 2025]
    office = fu[fu["category"] == "office"]
    assert (office["amount_yuan"] <= 25_000).all()
    assert (office["amount_yuan"] == 25_000).mean() > 0.9
    assert (office.groupby("year").size() < len(c)).all()  # a few missing lines
    party = fu[fu["category"] == "party_building"]
    assert (party["amount_yuan"] <= 100_000).all()
    assert (party["amount_yuan"] == 100_000).mean() > 0.9
    welfare = fu[fu["category"] == "public_welfare"].groupby("year")["amount_yuan"].sum()
    assert ((welfare - 1_000_000).abs() <= 10_000).all()
    assert set(fu["category"]) == {"office", "party_building", "public_welfare", "facility",
                                   "staff", "activity", "other"}
    sources = fu["source"].value_counts(normalize=True)
    assert sources["fiscal"] > 0.7
    assert {"co_building", "donation", "service_income"} <= set(sources.index)


def test_disbursement_lags(district):
    fu = district["funding"]
    allocated = pd.to_datetime(fu["allocated_date"])
    disbursed = pd.to_datetime(fu["disbursed_date"])
    delay = (disbursed - allocated).dt.days.dropna()
    assert (delay >= 0).all()
    late = (delay > 30).mean()
    assert 0.2 < late < 0.7
    assert delay.max() <= 150
    never = fu["disbursed_date"].isna() & fu["allocated_date"].notna()
    assert 0 < never.sum() < 0.1 * len(fu)


def test_safety_months_and_rare_events(district):
    s, c = district["safety"], district["communities"]
    months = sorted(s["month"].unique())
    assert months[0] == "2024-01" and months[-1] == "2025-12" and len(months) == 24
    per_community = s.groupby("community_id").size()
    assert per_community.max() == 24
    assert (per_community < 24).any()  # a whole month missing now and then
    assert len(per_community) == len(c)
    assert 1 <= s["major_criminal_cases"].sum() <= 10
    assert 1 <= s["mass_incidents"].sum() <= 6
    assert 1 <= s["reoffenders"].sum() <= 10
    assert s["correction_subjects"].dropna().between(0, 6).all()
    mediated = s["disputes_mediated"].sum() / s["disputes_received"].sum()
    resolved = s["disputes_resolved"].sum() / s["disputes_mediated"].sum()
    assert 0.95 <= mediated <= 1.0
    assert 0.85 <= resolved <= 0.98
    assert s["satisfaction_rate"].dropna().between(88, 99.5).all()
    assert s["legal_education_rate"].dropna().between(90, 100).all()
    assert s["police_hours"].groupby(s["community_id"]).mean().between(10, 50).all()
    for column in ("disputes_received", "police_hours", "satisfaction_rate"):
        assert s[column].isna().any(), column


def test_residences_add_up_to_each_community(district):
    r, c = district["residences"], district["communities"].set_index("community_id")
    located = c[c["lon"].notna()]
    assert set(r["community_id"]) == set(located.index)
    assert (r.groupby("community_id").size() == 12).all()
    assert r["residence_id"].iloc[0] == "340403001001-R01"
    sums = r.groupby("community_id")[["households", "population"]].sum()
    assert (sums["households"] == located.loc[sums.index, "households"]).all()
    assert (sums["population"] == located.loc[sums.index, "population"]).all()
    centre = located.loc[r["community_id"]]
    dy = (r["lat"].to_numpy() - centre["lat"].to_numpy()) * 111_320
    dx = (r["lon"].to_numpy() - centre["lon"].to_numpy()) * 111_320 * math.cos(
        math.radians(32.63)
    )
    distance = np.hypot(dx, dy)
    assert distance.min() > 95 and distance.max() < 705


# -- scale ---------------------------------------------------------------------------


def test_ten_times_the_communities_gives_ten_times_the_rows(district, big):
    assert len(big["communities"]) == 1170
    assert big["communities"]["community_id"].is_unique
    assert big["communities"]["street"].nunique() == 130
    assert len(big["safety"]) == 10 * len(district["safety"])
    assert len(big["residences"]) == 10 * len(district["residences"])
    for name in ("facilities", "funding"):
        assert abs(len(big[name]) / (10 * len(district[name])) - 1) < 0.1, name
    area = big["communities"]["office_area_m2"]
    assert (area > 1000).sum() == 30 and (area > 600).sum() == 160


def test_small_and_odd_sizes_work():
    for size in (SampleSize(communities=1, months=1, residences_per_community=1, years=1),
                 SampleSize(communities=50, months=7, residences_per_community=3, years=2)):
        frames = generate_district(size)
        assert len(frames["communities"]) == size.communities
        assert frames["safety"]["month"].max() == "2025-12"
        assert frames["funding"]["year"].nunique() == size.years


# -- database helpers that need no importer ------------------------------------------


def test_sample_tables_present_is_empty_on_a_new_database():
    conn = db.connect_memory()
    try:
        assert sample_rows.tables_present(conn) == []
    finally:
        conn.close()


def test_ensure_sample_loaded_leaves_a_used_database_alone():
    conn = db.connect_memory()
    try:
        conn.execute(
            "insert into import_history (import_id, table_name, file_name, sha256, rows_in_file, "
            "rows_replaced, applied_at, applied_by, is_sample) "
            "values (1, 'communities', 'x.csv', 'abc', 0, 0, now(), 'tester', false)"
        )
        assert sample_loader.ensure_sample_loaded(conn) is False
        assert conn.execute("select count(*) from communities").fetchone()[0] == 0
    finally:
        conn.close()


def test_fixed_decimal_formatting_matches_python_formatting():
    """write_sample formats floats in Arrow; it must agree with f"{v:.Nf}"."""
    rng = np.random.default_rng(7)
    for places in (0, 1, 6):
        values = np.round(rng.uniform(-200, 200, 2000), places)
        values[:3] = [np.nan, 0.0, 117.0]
        expected = [None if v != v else f"{v:.{places}f}" for v in values]
        expected = [e.removeprefix("-") if e and float(e) == 0 else e for e in expected]
        assert sample._fixed(values, places).to_pylist() == expected
