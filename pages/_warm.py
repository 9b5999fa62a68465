"""Warm every page's default view in the background when the data changes.

After an import (or at start) every cached read misses: at a city's scale the
first person to open 设施覆盖 or 平安建设 waited several seconds while the
coverage engine, the safety queries and the maps ran. The first page run that
sees a new data version (usually the data page's own run after the import)
starts one background thread that computes each page's default view — no
street or type filter, the default period, the policy baseline, each page's
default inputs — through the same cached reads, so the first viewer finds
them computed. A viewer who arrives while it runs waits for the value being
computed rather than computing it again (Streamlit's cache computes a key
once). What is warmed is only a matter of speed: a page whose inputs differ
simply computes its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time

from governance import coverage, db, funding, indicators, safety, scenarios
from governance.catalogue import DIMENSIONS
from governance.contract import FACILITY_TYPE, FUNDING_CATEGORY
from governance.facility_view import CoverageRequest
from governance.funding_view import FundingRequest
from governance.indicators import Period, ViewFilter
from governance.scenarios import BASELINE
from pages._context import DataKey, connection_for

log = logging.getLogger("governance.app")

WARM_NICE = 10
WARM_DELAY_S = 2.0

# Off in the AppTest suite (tests/app/conftest.py): a thread per test would
# compete with the test and outlive its temporary database.
ENABLED = True

_lock = threading.Lock()
_started: set[DataKey] = set()
_threads: dict[DataKey, threading.Thread] = {}


def default_period(data: DataKey) -> Period:
    """The period a page shows before anyone moves the sidebar (as _shell.page_context)."""
    from pages._reads import available_periods

    years, months = available_periods(data)
    month_from, month_to = indicators.default_month_range(months) or (None, None)
    return Period(years[0] if years else None, month_from, month_to)


def _coverage_request() -> CoverageRequest:
    """pages/facilities.py before any input: the first facility type, the
    baseline's circle and detour, no what-if."""
    settings = BASELINE.standards().settings
    radius = float(settings["service_circle_radius_m"])
    circle = coverage.circle_for(radius)
    radius_m = radius if circle == "custom" else float(coverage.CIRCLE_PRESETS_M[circle])
    return CoverageRequest(FACILITY_TYPE.codes[0].code, radius_m,
                           float(settings["walking_detour_factor"]), scenario=BASELINE)


def _funding_request(period: Period) -> FundingRequest:
    """pages/funding.py before any input (its widgets start at the baseline's settings)."""
    settings = BASELINE.standards().settings
    levels = list(funding.SOCIAL_WORKER_ALLOWANCE_BY_LEVEL.values())
    level = int(settings["social_worker_allowance_level_yuan"])
    return FundingRequest(
        period, int(settings["on_time_days"]), float(settings["local_avg_monthly_wage_yuan"]),
        level if level in levels else levels[1],
        float(settings["funding_formula_base_yuan"]),
        float(settings["funding_formula_per_household_yuan"]),
        float(settings["funding_formula_per_elderly_yuan"]),
        float(settings["funding_formula_per_low_income_yuan"]),
        FUNDING_CATEGORY.codes[0].code, BASELINE,
    )


def _edited_baseline() -> scenarios.Scenario:
    """pages/scenarios.py's editor left at the baseline: the scenario it compares."""
    thresholds = {}
    for dimension in DIMENSIONS:
        for row in scenarios.editable_thresholds(dimension):
            if row["floor"] is None and row["target"] is None:
                continue
            floor, target = scenarios.threshold_of(BASELINE, row["indicator_id"])
            if row["floor"] is not None:
                floor = float(floor)
            if row["target"] is not None:
                target = float(target)
            thresholds[row["indicator_id"]] = (floor, target)
    settings = {row["key"]: float(BASELINE.setting(row["key"]))
                for row in scenarios.editable_settings()}
    return scenarios.named_as(scenarios.from_values(None, thresholds, settings), BASELINE)


def warm(data: DataKey) -> None:
    """Compute every page's default view of `data` into the shared caches."""
    from pages import _drawing, _reads

    everything = ViewFilter()
    period = default_period(data)
    steps = [
        lambda: _reads.district_totals(data, everything),
        lambda: _reads.status_matrix(data, period, everything, BASELINE),
        lambda: _reads.dimension_summary(data, period, everything, BASELINE),
        lambda: _reads.street_status_counts(data, period, everything, BASELINE),
    ]
    request = _coverage_request()
    steps += [
        lambda: _reads.space_standards(data, period, everything, BASELINE),
        lambda: _reads.closable_facilities(data, everything, request.facility_type),
        # The map's JSON is encoded once and kept with the figure (maps.SerializedOnceDeck).
        lambda: _drawing.coverage_map(data, request, everything).deck.to_json(),
    ]
    if period.month_from is not None:
        def safety_map() -> None:
            view = _reads.safety_data(data, period, everything, BASELINE)
            _reads.safety_drill_choices(data, period, everything, BASELINE, "")
            if view.incidents is not None:
                figure, _ = _drawing.incident_map(
                    data, period, everything, int(safety.DEFAULT_CELL_M), (),
                    view.incidents.summary.get("mean_lat"))
                figure.deck.to_json()
        steps.append(safety_map)
    if period.year is not None:
        steps.append(lambda: _reads.funding_data(data, _funding_request(period), everything))
    steps.append(lambda: _reads.scenario_comparison(data, period, everything,
                                                    _edited_baseline()))
    for step in steps:
        try:
            step()
        except Exception:  # noqa: BLE001 — warming is only for speed; the page will say
            log.exception("warming the page caches failed at one step")


def after_version(data: DataKey) -> None:
    """Start warming `data` in the background the first time a run sees it."""
    if not ENABLED:
        return
    with _lock:
        if data in _started:
            return
        _started.add(data)
        thread = threading.Thread(target=_warm_logged, args=(data,), daemon=True,
                                  name=f"warm-caches-{data.version}")
        _threads[data] = thread
    thread.start()


def _warm_logged(data: DataKey) -> None:
    # Behind the people using the app: this thread at a lower CPU priority
    # (Linux lets a thread have its own nice value), started once the run
    # that saw the new version has had time to finish.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WARM_NICE)
    time.sleep(WARM_DELAY_S)
    started = time.monotonic()
    warm(data)
    log.info("page caches warmed for data version %s in %.1f s", data.version,
             time.monotonic() - started)


def warm_now(db_path: str, scope: tuple[str, ...] | None = None,
             timeout_s: float | None = None) -> None:
    """Warm the current version of `db_path` and wait (benchmarks/pages.py)."""
    data = DataKey(db_path, db.data_version(connection_for(db_path)), scope)
    with _lock:
        _started.discard(data)
    enabled, globals()["ENABLED"] = ENABLED, True
    try:
        after_version(data)
    finally:
        globals()["ENABLED"] = enabled
    _threads[data].join(timeout_s)
