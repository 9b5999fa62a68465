"""Named what-if scenarios: thresholds and settings that differ from the policy
defaults, saved in the state store (governance/state_store.py: the accounts
file by default, PostgreSQL when configured, so every app process sees the
same ones), and their comparison with the baseline.

The baseline is `Standards.default()` (catalogue.toml, every value with its
policy source). It is never stored and cannot be overwritten: a scenario only
records what it changes. Scenarios are not data, so saving one does not bump
the data version; caches key on the scenario itself.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Union

import duckdb
import numpy as np
import pandas as pd

from governance import (
    db,
    funding,
    indicators,
    permissions,
    presentation,
    publish,
    state_store,
)
from governance.auth import User, accounts_path
from governance.catalogue import Standards, load_catalogue
from governance.clock import local_time
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter
from governance.text import has_text, t

NAME_MAX = 40
SCENARIO_VERSION_KEY = "scenario_version"
# Set in the state store once DuckDB's old scenarios table has been copied over.
MIGRATED_KEY = "scenarios_migrated_from_duckdb"

# Where scenarios are read and written: a DuckDB connection (its database's
# state store) or a state store itself.
StateSource = Union[duckdb.DuckDBPyConnection, state_store.StateStore]  # noqa: UP007

_MEMORY_STORES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_MEMORY_LOCK = threading.Lock()
_MIGRATED: set[tuple[str, str]] = set()
# Settings a scenario may change from the editor (lists such as the basic
# facility types are edited elsewhere, if at all).
EDITABLE_SETTING_TYPES = (int, float)


class ScenarioError(ValueError):
    """A scenario that cannot be saved, with a Chinese message for the user."""


@dataclass(frozen=True)
class Scenario:
    """What differs from the baseline. Hashable, so results cache per scenario.

    thresholds: (indicator_id, floor, target) for each indicator whose
    standard changes; settings: (key, value) for each changed setting.
    """

    name: str | None = None
    thresholds: tuple[tuple[str, float | None, float | None], ...] = ()
    settings: tuple[tuple[str, Any], ...] = ()

    @property
    def is_baseline(self) -> bool:
        return not self.thresholds and not self.settings

    def standards(self) -> Standards:
        return Standards.default().with_overrides(
            thresholds={i: {"floor": f, "target": g} for i, f, g in self.thresholds},
            settings=dict(self.settings),
        )

    def setting(self, key: str) -> Any:
        return self.standards().settings[key]

    def to_json(self) -> str:
        return json.dumps(
            {"thresholds": [list(item) for item in self.thresholds],
             "settings": [list(item) for item in self.settings]},
            ensure_ascii=False, sort_keys=True,
        )

    @classmethod
    def from_json(cls, name: str | None, text: str) -> Scenario:
        raw = json.loads(text)
        return from_values(name, {i: (f, g) for i, f, g in raw.get("thresholds", [])},
                           dict(raw.get("settings", [])))


BASELINE = Scenario()


def same_changes(a: Scenario, b: Scenario) -> bool:
    """The same thresholds and settings, whatever the names."""
    return a.thresholds == b.thresholds and a.settings == b.settings


def named_as(edited: Scenario, saved: Scenario) -> Scenario:
    """`edited` under `saved`'s name while it has saved's changes; unnamed once
    it differs, so a brief is never titled by a scenario it no longer is."""
    name = saved.name if not saved.is_baseline and same_changes(edited, saved) else None
    return replace(edited, name=name)


def _shown(value: Any) -> str:
    if value is None:
        return t("scenario.none")
    if isinstance(value, float):
        return f"{value:,.10g}"
    return str(value)


def describe(scenario: Scenario) -> list[str]:
    """One line per change, e.g. `F01 每百户办公和活动用房面积：基本 20 → 30`."""
    catalogue = load_catalogue()
    lines = []
    for indicator_id, floor, target in scenario.thresholds:
        item = catalogue.indicator(indicator_id)
        parts = []
        if not _same(floor, item.floor):
            parts.append(t("scenario.change.floor", before=_shown(item.floor), after=_shown(floor)))
        if not _same(target, item.target):
            parts.append(t("scenario.change.target", before=_shown(item.target),
                           after=_shown(target)))
        lines.append(t("scenario.change.indicator", id=item.id, name=item.name,
                       changes="，".join(parts), unit=item.unit))
    for key, value in scenario.settings:
        setting = catalogue.setting(key)
        lines.append(t("scenario.change.setting", label=setting.label,
                       before=_shown(setting.value), after=_shown(value), unit=setting.unit))
    return lines


def from_values(
    name: str | None,
    thresholds: Mapping[str, tuple[float | None, float | None]],
    settings: Mapping[str, Any],
) -> Scenario:
    """A scenario from full editor values: only what differs from the baseline
    is kept, in catalogue order, so equal inputs give equal (cache) keys.
    Unknown indicators or settings raise KeyError."""
    baseline = Standards.default()
    changed_thresholds = []
    for item in baseline.indicators:
        if item.id not in thresholds:
            continue
        floor, target = thresholds[item.id]
        if (_same(floor, item.floor), _same(target, item.target)) != (True, True):
            changed_thresholds.append((item.id, _number(floor), _number(target)))
    unknown = set(thresholds) - {i.id for i in baseline.indicators}
    if unknown:
        raise KeyError(sorted(unknown)[0])
    changed_settings = []
    for key, default in baseline.settings.items():
        if key in settings and settings[key] != default:
            value = settings[key]
            changed_settings.append((key, type(default)(value)
                                     if isinstance(default, EDITABLE_SETTING_TYPES) else value))
    unknown = set(settings) - set(baseline.settings)
    if unknown:
        raise KeyError(sorted(unknown)[0])
    return Scenario(name, tuple(changed_thresholds), tuple(changed_settings))


def _number(value: float | None) -> float | None:
    return None if value is None else float(value)


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) < 1e-9


# ---------------------------------------------------------------------------
# Storage


def valid_name(name: str | None, limit: int, error: type[ValueError], kind: str) -> str:
    """`name` stripped, or `error` with the Chinese `<kind>.error.empty_name`
    or `<kind>.error.long_name` (saved scenarios, meetings)."""
    text = (name or "").strip()
    if not text:
        raise error(t(f"{kind}.error.empty_name"))
    if len(text) > limit:
        raise error(t(f"{kind}.error.long_name", limit=limit))
    return text


def scenario_label(scenario: Scenario) -> str:
    """How a brief or a meeting record names the standards it used."""
    if scenario.is_baseline:
        return t("brief.scenario.baseline")
    return t("brief.scenario.named", name=scenario.name or t("brief.scenario.unnamed"))


def _valid_name(name: str | None) -> str:
    text = valid_name(name, NAME_MAX, ScenarioError, "scenario")
    if text == t("scenario.baseline"):
        raise ScenarioError(t("scenario.error.baseline_name"))
    return text


def _state(conn: StateSource) -> state_store.StateStore:
    """The state store that holds the scenarios of conn's database.

    A StateStore is used as it is. For a DuckDB connection: the store of its
    working database (a published snapshot's, when conn reads one:
    publish.working_database), or for an in-memory database a private
    in-memory store that lives as long as the connection. The first time in
    this process, scenarios an older version kept in DuckDB are copied over
    (_migrate)."""
    if isinstance(conn, state_store.StateStore):
        return conn
    path = db.database_path(conn)
    if path is None:
        with _MEMORY_LOCK:
            store = _MEMORY_STORES.get(conn)
            if store is None:
                store = _MEMORY_STORES[conn] = state_store.MemoryStore()
    else:
        working = publish.working_database(path)
        store = state_store.open_store(accounts_path(working))
    _migrate(conn, store)
    return store


def _migrate(conn: duckdb.DuckDBPyConnection, store: state_store.StateStore) -> None:
    """Copy the scenarios an older version saved in DuckDB into the state
    store, once per store: a name already in the store keeps the store's
    version. The DuckDB rows stay (a backup restored later still has them)."""
    key = (store.key, str(db.database_path(conn)))
    if key in _MIGRATED:
        return
    cur = conn.cursor()
    try:
        with db.COMMIT_GATE.reading():
            rows = cur.execute(db.read_sql("scenarios_to_migrate")).fetchall()
    finally:
        cur.close()
    with store.write() as state:
        done = state.execute("select value from settings where key = ?",
                             (MIGRATED_KEY,)).fetchone()
        if done is None:
            for name, payload, changes, saved_at, saved_by in rows:
                state.execute(
                    "insert into scenarios (name, payload_json, changes, saved_at, saved_by)"
                    " values (?, ?, ?, ?, ?) on conflict (name) do nothing",
                    (name, payload, int(changes), _iso(saved_at), saved_by))
            state.execute("insert into settings (key, value) values (?, ?)"
                          " on conflict (key) do nothing", (MIGRATED_KEY, str(len(rows))))
            if rows:
                _bump_version(state)
    _MIGRATED.add(key)


def _iso(moment: datetime | str) -> str:
    if isinstance(moment, datetime):
        return moment.isoformat(timespec="seconds")
    return str(moment)


def list_scenarios(conn: StateSource) -> pd.DataFrame:
    """name, saved_at (local time), saved_by, changes (count); newest first."""
    columns = ["name", "saved_at", "saved_by", "changes"]
    with _state(conn).connect() as state:
        rows = state.execute(
            "select name, saved_at, saved_by, changes from scenarios"
            " order by saved_at desc, name").fetchall()
    saved = pd.DataFrame(rows, columns=columns)
    saved["saved_at"] = local_time(saved["saved_at"])
    saved["changes"] = saved["changes"].astype("int64")
    return saved


def load_scenario(conn: StateSource, name: str) -> Scenario | None:
    with _state(conn).connect() as state:
        row = state.execute("select payload_json from scenarios where name = ?",
                            (name,)).fetchone()
    return None if row is None else Scenario.from_json(name, row[0])


def owner(conn: StateSource, name: str) -> str | None:
    """Who saved the scenario `name`; None when there is none."""
    with _state(conn).connect() as state:
        return _owner(state, name)


def _owner(state, name: str) -> str | None:
    row = state.execute("select saved_by from scenarios where name = ?", (name,)).fetchone()
    return row[0] if row else None


def _check_may_change(state, name: str, user: User) -> None:
    """Inside the transaction that changes it, so the owner cannot change between."""
    if not permissions.may_save_scenarios(user):
        raise ScenarioError(t("scenario.error.role"))
    saved_by = _owner(state, name)
    if not permissions.may_change_scenario(user, saved_by):
        raise ScenarioError(t("scenario.error.not_yours", name=name, owner=saved_by))


def save_scenario(conn: StateSource, scenario: Scenario, name: str, user: User) -> Scenario:
    """Save under `name` in one transaction, replacing a scenario of that name
    when `user` may (permissions.may_change_scenario); saved_by is the user."""
    clean = _valid_name(name)
    if scenario.is_baseline:
        raise ScenarioError(t("scenario.error.no_changes"))
    stored = Scenario(clean, scenario.thresholds, scenario.settings)
    with _state(conn).write() as state:
        _check_may_change(state, clean, user)
        state.execute("delete from scenarios where name = ?", (clean,))
        state.execute(
            "insert into scenarios (name, payload_json, changes, saved_at, saved_by)"
            " values (?, ?, ?, ?, ?)",
            (clean, stored.to_json(), len(stored.thresholds) + len(stored.settings),
             _iso(datetime.now(UTC).replace(tzinfo=None, microsecond=0)), user.record_name))
        _bump_version(state)
    return stored


def delete_scenario(conn: StateSource, name: str, user: User) -> bool:
    """Delete a saved scenario when `user` may; False when there was none of
    that name. Refused (ScenarioError) for another's scenario unless admin."""
    with _state(conn).write() as state:
        _check_may_change(state, name, user)
        deleted = state.execute("delete from scenarios where name = ?", (name,)).rowcount
        _bump_version(state)
    return bool(deleted)


def _bump_version(state) -> None:
    state_store.bump_counter(state, SCENARIO_VERSION_KEY)


def scenario_version(conn: StateSource) -> int:
    """Bumped by every save and delete: the scenario list caches key on it."""
    with _state(conn).connect() as state:
        row = state.execute("select value from settings where key = ?",
                            (SCENARIO_VERSION_KEY,)).fetchone()
    return int(row[0]) if row else 0


# ---------------------------------------------------------------------------
# Comparison with the baseline


@dataclass
class Comparison:
    """Scenario against baseline for the visible communities.

    status_changes: one row per community × indicator whose status differs —
      community_id, community_name, street, indicator_id, baseline_value,
      baseline_status, scenario_value, scenario_status.
    totals: one row per indicator with a standard — indicator_id,
      met_baseline, met_scenario (met + partly_met), not_met_baseline,
      not_met_scenario, change (met_scenario − met_baseline).
    gaps: one row per community with any gap under the scenario —
      community_id, community_name, street, households, office_area_m2,
      required_area_m2, space_gap_m2, space_cost_yuan, office_fund_gap_yuan,
      party_fund_gap_yuan, funding_gap_yuan, total_cost_yuan.
    summary: district figures (see `compare`).
    """

    scenario: Scenario
    status_changes: pd.DataFrame
    totals: pd.DataFrame
    gaps: pd.DataFrame
    summary: dict = field(default_factory=dict)


def _met(status: pd.Series) -> pd.Series:
    return status.isin(["met", "partly_met"])


def status_changes(baseline: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    keys = ["community_id", "indicator_id"]
    merged = baseline.merge(scenario[[*keys, "value", "status"]], on=keys,
                            suffixes=("_baseline", "_scenario"))
    changed = merged[merged["status_baseline"] != merged["status_scenario"]]
    frame = changed.rename(columns={
        "value_baseline": "baseline_value", "status_baseline": "baseline_status",
        "value_scenario": "scenario_value", "status_scenario": "scenario_status",
    })
    columns = ["community_id", "community_name", "street", "indicator_id", "baseline_value",
               "baseline_status", "scenario_value", "scenario_status"]
    order = {i.id: n for n, i in enumerate(load_catalogue().indicators)}
    frame = frame.assign(_order=frame["indicator_id"].map(order))
    return frame.sort_values(["_order", "street", "community_id"])[columns].reset_index(
        drop=True)


def indicator_totals(baseline: pd.DataFrame, scenario: pd.DataFrame) -> pd.DataFrame:
    """Per indicator with a standard, in catalogue order: communities met (or
    partly met) and not met under each; counted in one grouping per frame, as
    a filter per indicator cost ~8 ms per indicator and frame."""
    ids = pd.Index([item.id for item in load_catalogue().indicators if item.has_standard],
                   name="indicator_id")

    def counted(values: pd.DataFrame, suffix: str) -> pd.DataFrame:
        status = values["status"].to_numpy(dtype=object, na_value=None)
        flags = pd.DataFrame({f"met_{suffix}": _met(pd.Series(status)).to_numpy(),
                              f"not_met_{suffix}": status == "not_met"})
        sums = flags.groupby(values["indicator_id"].to_numpy(dtype=object)).sum()
        return sums.reindex(ids, fill_value=0).astype("int64")

    totals = counted(baseline, "baseline").join(counted(scenario, "scenario"))
    totals = totals[["met_baseline", "met_scenario", "not_met_baseline", "not_met_scenario"]]
    totals = totals.reset_index()
    totals["change"] = totals["met_scenario"] - totals["met_baseline"]
    return totals


def gap_costs(
    communities: pd.DataFrame, values: pd.DataFrame, standards: Standards
) -> pd.DataFrame:
    """What closing each community's space and funding gaps would cost.

    Space: required area = max(F01 floor × households / 100, F02's minimum (the
    rural minimum for rural communities)); gap = required − office_area_m2
    when positive, costed at the space_cost_yuan_per_m2 setting. Funding: the
    M01 / M02 floors minus this year's office / party-building funds (no lines
    counts as 0 yuan).
    """
    settings = standards.settings
    f01, f02 = standards.indicator("F01"), standards.indicator("F02")
    m01, m02 = standards.indicator("M01"), standards.indicator("M02")
    frame = communities[["community_id", "community_name", "street", "community_type",
                         "households", "office_area_m2"]].copy()
    minimum = np.where(frame["community_type"] == "rural",
                       float(settings["rural_office_area_floor_m2"]), float(f02.floor or 0))
    by_households = frame["households"].astype("float64") * float(f01.floor or 0) / 100
    frame["required_area_m2"] = np.maximum(by_households, minimum)
    frame["space_gap_m2"] = (frame["required_area_m2"] - frame["office_area_m2"]).clip(lower=0)
    frame["space_cost_yuan"] = (frame["space_gap_m2"]
                                * float(settings["space_cost_yuan_per_m2"])).round(0)
    indicator_ids = values["indicator_id"].to_numpy(dtype=object)

    def funds(indicator_id: str) -> pd.Series:
        """Each community's value of M01 or M02, 0 without one."""
        rows = values[indicator_ids == indicator_id]
        by_community = pd.Series(rows["value"].to_numpy(dtype="float64", na_value=np.nan),
                                 index=rows["community_id"].to_numpy(dtype=object))
        return frame["community_id"].map(by_community).astype("float64").fillna(0)

    office, party = funds("M01"), funds("M02")
    frame["office_fund_gap_yuan"] = (float(m01.floor or 0) - office).clip(lower=0).round(0)
    frame["party_fund_gap_yuan"] = (float(m02.floor or 0) - party).clip(lower=0).round(0)
    frame["funding_gap_yuan"] = frame["office_fund_gap_yuan"] + frame["party_fund_gap_yuan"]
    frame["total_cost_yuan"] = frame["space_cost_yuan"] + frame["funding_gap_yuan"]
    gaps = frame[frame["total_cost_yuan"] > 0].drop(columns=["community_type"])
    return gaps.sort_values(["total_cost_yuan", "community_id"],
                            ascending=[False, True]).reset_index(drop=True)


def compare(
    conn: duckdb.DuckDBPyConnection,
    period: Period,
    scenario: Scenario,
    view_filter: ViewFilter = ViewFilter(),  # noqa: B008 — frozen, hashable
    scope: Scope = ALL_STREETS,
) -> Comparison:
    """Every indicator under the baseline and under the scenario, compared."""
    baseline_values = indicators.indicator_values(
        conn, period, view_filter, Standards.default(), scope).to_pandas()
    scenario_values = (baseline_values if scenario.is_baseline else indicators.indicator_values(
        conn, period, view_filter, scenario.standards(), scope).to_pandas())
    communities = indicators.communities_in_scope(conn, view_filter, scope).to_pandas()
    return compare_values(scenario, baseline_values, scenario_values, communities)


def compare_values(
    scenario: Scenario, baseline_values: pd.DataFrame, scenario_values: pd.DataFrame,
    communities: pd.DataFrame,
) -> Comparison:
    """`compare` of values already computed (indicators.indicator_values under
    the policy baseline and under the scenario, for the same communities):
    the pages pass their cached scope-wide values narrowed to a filter."""
    standards = scenario.standards()
    gaps = gap_costs(communities, scenario_values, standards)
    baseline_gaps = gap_costs(communities, baseline_values, Standards.default())
    settings = standards.settings
    allocation = funding.formula_allocation(
        communities, float(settings["funding_formula_base_yuan"]),
        float(settings["funding_formula_per_household_yuan"]),
        float(settings["funding_formula_per_elderly_yuan"]),
        float(settings["funding_formula_per_low_income_yuan"]),
    )
    summary = {
        "communities": len(communities),
        "status_changes": 0,
        "communities_changed": 0,
        "space_gap_m2": float(gaps["space_gap_m2"].sum()),
        "space_cost_yuan": float(gaps["space_cost_yuan"].sum()),
        "funding_gap_yuan": float(gaps["funding_gap_yuan"].sum()),
        "total_cost_yuan": float(gaps["total_cost_yuan"].sum()),
        "baseline_total_cost_yuan": float(baseline_gaps["total_cost_yuan"].sum()),
        "formula_total_yuan": int(allocation["formula_yuan"].sum()) if len(allocation) else 0,
    }
    summary["cost_change_yuan"] = summary["total_cost_yuan"] - summary["baseline_total_cost_yuan"]
    changes = status_changes(baseline_values, scenario_values)
    summary["status_changes"] = len(changes)
    summary["communities_changed"] = int(changes["community_id"].nunique())
    return Comparison(scenario, changes, indicator_totals(baseline_values, scenario_values),
                      gaps, summary)


# ---------------------------------------------------------------------------
# The editor: every threshold and numeric setting, with defaults and sources


def editable_thresholds(dimension: str) -> list[dict[str, Any]]:
    """The indicators of one dimension that have a standard, with the policy
    default floor/target (None: the indicator has no such bound), source, and
    the labels of the settings its standard also depends on."""
    catalogue = load_catalogue()
    rows = []
    for item in catalogue.by_dimension(dimension):
        if not item.has_standard:
            continue
        rows.append({
            "indicator_id": item.id, "name": item.name, "unit": item.unit,
            "floor": item.floor, "target": item.target,
            "source": catalogue.source_text(item),
            "setting_labels": [catalogue.setting(key).label for key in item.settings],
        })
    return rows


def editable_settings() -> list[dict[str, Any]]:
    """The numeric settings (lists such as facility types are not edited here)."""
    return [
        {"key": s.key, "label": s.label, "unit": s.unit, "value": s.value, "help": s.help}
        for s in load_catalogue().settings
        if isinstance(s.value, EDITABLE_SETTING_TYPES) and not isinstance(s.value, bool)
    ]


def threshold_of(scenario: Scenario, indicator_id: str) -> tuple[float | None, float | None]:
    item = scenario.standards().indicator(indicator_id)
    return item.floor, item.target



# ---------------------------------------------------------------------------
# Display and export


def totals_for_display(totals: pd.DataFrame) -> pd.DataFrame:
    shown = totals.copy()
    shown["indicator_id"] = shown["indicator_id"].map(presentation.indicator_column_label)
    return shown


def changes_for_display(changes: pd.DataFrame) -> pd.DataFrame:
    """Indicator names and status words; each value to its indicator's decimals
    (as the page shows it, and so the exported cell holds it)."""
    shown = changes.copy()
    for column in ("baseline_value", "scenario_value"):
        shown[column] = presentation.round_to_indicator(shown[column], shown["indicator_id"])
    shown["indicator_id"] = shown["indicator_id"].map(presentation.indicator_column_label)
    for column in ("baseline_status", "scenario_status"):
        shown[column] = shown[column].map(presentation.status_word)
    return shown


def column_label(name: str) -> str:
    for key in (f"scenario.column.{name}", f"facilities.column.{name}"):
        if has_text(key):
            return t(key)
    return name


def export_sheets(comparison: Comparison) -> dict[str, pd.DataFrame]:
    """The comparison's tables with Chinese headers, one sheet each."""
    describe_lines = describe(comparison.scenario) or [t("scenario.compare.baseline")]
    return {
        t("scenario.sheet.changes_list"): pd.DataFrame(
            {t("scenario.sheet.change"): describe_lines}),
        t("scenario.sheet.totals"): totals_for_display(comparison.totals).rename(
            columns=column_label),
        t("scenario.sheet.status_changes"): changes_for_display(comparison.status_changes).rename(
            columns=column_label),
        t("scenario.sheet.gaps"): comparison.gaps.rename(columns=column_label),
    }
