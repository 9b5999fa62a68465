"""Meetings on record (会议记录) and what changed since one (上次会议以来).

A bureau meeting names the communities that fall short (督办清单) and the
next meeting asks how they are doing now. A meeting is saved from where the
brief is generated: its name and date, the data version it read, the scenario
(name and payload, so a later edit of that scenario does not change the
record), the filters and period, and every flagged community × indicator with
its value and status at the time. The record lives in the state store
(governance/state_store.py: table `meetings`), beside the saved scenarios.

The data a meeting saw is kept as a snapshot file in `meetings/` beside the
working database, one per data version: a hard link to the backup taken
after that version's import (backup.py), or to the published snapshot that
holds it (publish.py, cluster mode), or else a fresh consistent copy
(backup.copy_database). A hard link costs no disk while the backup is still
there; when backup pruning later deletes the backup's name, the meeting's
name keeps the file. So the version stays as long as a meeting needs it,
whatever the backup count, and the backup and publish code need not know
about meetings. Deleting the last meeting of a version deletes its snapshot.

"What changed" is computed, never copied: the same indicator queries
(indicators.indicator_values) run on the meeting's snapshot, opened
read-only, with the meeting's period, filters and standards, and on the
current data with the current period and standards. Why a value moved comes
from the data too (governance/sql/meeting_data_rows.sql on both versions):
months or a year present now and not then (newly reported), the same month
or year imported again with other figures (a corrected figure), a whole
table re-imported with other figures for the community, and the standard
(threshold or a setting it depends on) that differs between the meeting's
scenario and the current one.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from governance import (
    backup,
    db,
    indicators,
    permissions,
    presentation,
    private_files,
    publish,
    scenarios,
    state_store,
)
from governance.auth import User
from governance.catalogue import Standards, load_catalogue
from governance.clock import local_time
from governance.history import table_label
from governance.indicators import ALL_STREETS, Period, Scope, ViewFilter
from governance.scenarios import Scenario
from governance.state_store import StateStore
from governance.text import t

log = logging.getLogger("governance.meetings")

MEETINGS_DIR_NAME = "meetings"
NAME_MAX = 60
MEETING_VERSION_KEY = "meeting_version"
GOOD_STATUSES = ("met", "partly_met")
# Which data tables an indicator of each dimension is computed from (for the
# reasons a value moved): every dimension divides by the community's figures.
DIMENSION_TABLES = {
    "facilities": ("communities", "facilities", "residences"),
    "funding": ("funding", "communities"),
    "safety": ("safety", "communities"),
    "organisation": ("communities",),
}
PERIOD_TABLES = ("safety", "funding")
OUTCOMES = ("now_met", "improved", "still_not_met", "worse", "no_data", "gone")
ITEM_COLUMNS = ["community_id", "community_name", "street", "indicator_id", "value_then",
                "status_then", "value_now", "status_now", "outcome", "reason"]


class MeetingError(ValueError):
    """A meeting that cannot be saved or deleted; str() is a Chinese message."""


# ---------------------------------------------------------------------------
# The record


@dataclass(frozen=True)
class Meeting:
    """A meeting as saved. flagged: one row per community × indicator that was
    not met — community_id, community_name, street, indicator_id, value, status."""

    id: int
    name: str
    meeting_date: date
    saved_at: datetime  # UTC, naive
    saved_by: str
    data_version: int
    import_id: int | None
    snapshot: str  # file name in meetings/
    scenario: Scenario
    period: Period
    view_filter: ViewFilter
    flagged: pd.DataFrame = field(compare=False, hash=False)

    def label(self) -> str:
        return t("meeting.label", date=self.meeting_date.isoformat(), name=self.name)


def _state(conn: duckdb.DuckDBPyConnection | StateStore) -> StateStore | None:
    """The state store of conn's working database; None for an in-memory
    database, which keeps no meetings (it has no file to keep a version in)."""
    if isinstance(conn, StateStore):
        return conn
    path = db.database_path(conn)
    return None if path is None else publish.store_for(path)


def meetings_dir(db_path: str | Path) -> Path:
    """`meetings/` beside the working database (a published snapshot's path maps to it)."""
    return publish.working_database(Path(db_path)).parent / MEETINGS_DIR_NAME


UID_CHARS = 8
# What snapshot_name makes; a record naming anything else (a path, `..`) is refused.
SNAPSHOT_PATTERN = re.compile(r"[^/\\\x00]+-meeting-v\d{6,}(?:-[0-9a-f]{" + str(UID_CHARS)
                              + "})?" + re.escape(backup.BACKUP_SUFFIX))


def snapshot_name(db_path: str | Path, version: int, uid: str | None = None) -> str:
    """One name per data version and uid (db.DATA_UID_KEY): after a restore
    the same number comes back for other data, with another uid."""
    stem = publish.working_database(Path(db_path)).stem
    tag = "-" + uid[:UID_CHARS] if uid else ""
    return stem + "-meeting-v" + format(int(version), "06d") + tag + backup.BACKUP_SUFFIX


def valid_snapshot(name: Any) -> str:
    """The stored snapshot name, when it is one snapshot_name could have made:
    the record may come from a shared store, and the name is joined onto
    meetings/ to be opened or deleted."""
    if (not isinstance(name, str) or Path(name).name != name
            or not SNAPSHOT_PATTERN.fullmatch(name)):
        raise MeetingError(t("meeting.error.bad_snapshot", file=str(name)[:80]))
    return name


def _latest_import(conn: duckdb.DuckDBPyConnection) -> int | None:
    cur = conn.cursor()
    try:
        with db.COMMIT_GATE.reading():
            return cur.execute("select max(import_id) from import_history").fetchall()[0][0]
    finally:
        cur.close()


def _identity(conn: duckdb.DuckDBPyConnection) -> tuple[int, str | None]:
    """(data version, its uid), read together; uid None for a version bumped
    before uids were stamped."""
    cur = conn.cursor()
    try:
        with db.COMMIT_GATE.reading():
            version = db.get_meta(cur, "data_version")
            uid = db.get_meta(cur, db.DATA_UID_KEY)
    finally:
        cur.close()
    return int(version or 0), uid


def _identity_of(path: Path) -> tuple[int, str | None] | None:
    try:
        other = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        value = db.get_meta(other, "data_version")
        if value is None:
            return None
        return int(value), db.get_meta(other, db.DATA_UID_KEY)
    finally:
        other.close()


def _source_file(conn: duckdb.DuckDBPyConnection, identity: tuple[int, str | None],
                 import_id: int | None) -> Path | None:
    """A file that already holds exactly this version: the published snapshot
    conn reads, or the backup taken after the newest import (checked: a
    version bumped without an import, such as clearing the sample, has none)."""
    path = db.database_path(conn)
    if path is None:
        return None
    if publish.working_database(path) != path:
        return path  # a published snapshot: immutable, and exactly what conn reads
    if import_id is None:
        return None
    for candidate in reversed(backup.list_backups(path)):
        if (candidate.kind == "import" and candidate.import_id == import_id
                and _identity_of(candidate.path) == identity):
            return candidate.path
    return None


def _keep_snapshot(conn: duckdb.DuckDBPyConnection, identity: tuple[int, str | None],
                   import_id: int | None) -> str:
    """The file name in meetings/ that holds this version, made if needed."""
    path = db.database_path(conn)
    if path is None:
        raise MeetingError(t("meeting.error.in_memory"))
    folder = private_files.private_dir(meetings_dir(path))
    target = folder / snapshot_name(path, *identity)
    if target.is_file() and _identity_of(target) == identity:
        return target.name
    # Left over from other data of that number and uid (a restore of a
    # version from before uids): replaced, as no meeting can use both.
    target.unlink(missing_ok=True)
    source = _source_file(conn, identity, import_id)
    if source is not None:
        try:
            os.link(source, target)
        except OSError:  # another filesystem, or links refused: a copy then
            partial = target.with_name(target.name + backup.PARTIAL_SUFFIX)
            shutil.copyfile(source, partial)
            os.chmod(partial, private_files.FILE_MODE)
            os.replace(partial, target)
    else:
        backup.copy_database(conn, target)
    return target.name


def snapshot_path(conn: duckdb.DuckDBPyConnection, meeting: Meeting) -> Path:
    path = db.database_path(conn)
    if path is None:
        raise MeetingError(t("meeting.error.in_memory"))
    return meetings_dir(path) / valid_snapshot(meeting.snapshot)


@contextlib.contextmanager
def open_snapshot(conn: duckdb.DuckDBPyConnection, meeting: Meeting
                  ) -> Iterator[duckdb.DuckDBPyConnection]:
    """The meeting's data version, opened read-only (a connection of its own)."""
    path = snapshot_path(conn, meeting)
    if not path.is_file():
        log.warning("meeting %s: snapshot %s is missing", meeting.id, path)
        raise MeetingError(t("meeting.error.snapshot_missing", name=meeting.name,
                             file=path.name))
    other = duckdb.connect(str(path), read_only=True)
    try:
        yield other
    finally:
        other.close()


def _period_json(period: Period) -> dict[str, Any]:
    def month(value: date | None) -> str | None:
        return value.isoformat() if value else None

    return {"year": period.year, "month_from": month(period.month_from),
            "month_to": month(period.month_to)}


def _period_of(raw: dict[str, Any]) -> Period:
    def month(value: str | None) -> date | None:
        return date.fromisoformat(value) if value else None

    return Period(raw.get("year"), month(raw.get("month_from")), month(raw.get("month_to")))


def flagged_items(values: pd.DataFrame) -> pd.DataFrame:
    """The 督办清单 of a view: every community × indicator not met."""
    columns = ["community_id", "community_name", "street", "indicator_id", "value", "status"]
    frame = values[values["status"] == "not_met"][columns]
    return frame.reset_index(drop=True)


def save_meeting(
    conn: duckdb.DuckDBPyConnection,
    *,
    name: str,
    meeting_date: date,
    period: Period,
    view_filter: ViewFilter,
    scenario: Scenario,
    user: User,
) -> Meeting:
    """Record a meeting on the current data (district-wide within the filter:
    a meeting is the bureau's, so its list is not narrowed to a street
    account's scope; street accounts may not save one)."""
    if not permissions.may_save_meetings(user):
        raise MeetingError(t("meeting.error.role"))
    clean = scenarios.valid_name(name, NAME_MAX, MeetingError, "meeting")
    store = _state(conn)
    if store is None:
        raise MeetingError(t("meeting.error.in_memory"))
    identity = _identity(conn)
    version = identity[0]
    import_id = _latest_import(conn)
    values = indicators.indicator_values(conn, period, view_filter,
                                         scenario.standards()).to_pandas()
    flagged = flagged_items(values)
    saved_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    filters = {"streets": list(view_filter.streets),
               "community_types": list(view_filter.community_types),
               **_period_json(period)}
    with store.write() as state:
        # Inside the write: a delete of the last meeting of this version
        # (which removes the file) cannot run between keeping and recording it.
        snapshot = _keep_snapshot(conn, identity, import_id)
        cur = state.execute(
            "insert into meetings (name, meeting_date, saved_at, saved_by, data_version,"
            " import_id, snapshot, scenario_name, scenario_json, filters_json, flagged_json)"
            " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id",
            (clean, meeting_date.isoformat(), saved_at.isoformat(timespec="seconds"),
             user.record_name, int(version), None if import_id is None else int(import_id),
             snapshot, scenario.name, scenario.to_json(),
             json.dumps(filters, ensure_ascii=False),
             flagged.to_json(orient="records", force_ascii=False)))
        meeting_id = int(cur.fetchone()[0])
        state_store.bump_counter(state, MEETING_VERSION_KEY)
    return Meeting(meeting_id, clean, meeting_date, saved_at, user.record_name, int(version),
                   import_id, snapshot, scenario, period, view_filter, flagged)


def meeting_version(conn: duckdb.DuckDBPyConnection | StateStore) -> int:
    """Bumped by every save and delete: cached lists and follow-ups key on it."""
    store = _state(conn)
    if store is None or not store.exists():
        return 0
    with store.connect() as state:
        row = state.execute("select value from settings where key = ?",
                            (MEETING_VERSION_KEY,)).fetchone()
    return int(row[0]) if row else 0


_RECORD_COLUMNS = ("id, name, meeting_date, saved_at, saved_by, data_version, import_id,"
                   " snapshot, scenario_name, scenario_json, filters_json, flagged_json")


def _meeting(row: tuple) -> Meeting:
    (meeting_id, name, meeting_date, saved_at, saved_by, version, import_id, snapshot,
     scenario_name, scenario_json, filters_json, flagged_json) = row
    filters = json.loads(filters_json)
    flagged = pd.DataFrame(json.loads(flagged_json),
                           columns=["community_id", "community_name", "street",
                                    "indicator_id", "value", "status"])
    flagged["value"] = flagged["value"].astype("float64")
    return Meeting(
        id=int(meeting_id), name=name, meeting_date=date.fromisoformat(meeting_date),
        saved_at=datetime.fromisoformat(saved_at), saved_by=saved_by,
        data_version=int(version), import_id=None if import_id is None else int(import_id),
        snapshot=valid_snapshot(snapshot),
        scenario=Scenario.from_json(scenario_name, scenario_json),
        period=_period_of(filters),
        view_filter=ViewFilter(tuple(filters.get("streets", ())),
                               tuple(filters.get("community_types", ()))),
        flagged=flagged,
    )


def list_meetings(conn: duckdb.DuckDBPyConnection | StateStore) -> pd.DataFrame:
    """id, name, meeting_date, data_version, flagged (count), saved_by,
    saved_at (local time); the latest meeting first."""
    columns = ["id", "name", "meeting_date", "data_version", "flagged", "saved_by", "saved_at"]
    store = _state(conn)
    rows: list = []
    if store is not None and store.exists():
        with store.connect() as state:
            rows = state.execute(
                "select id, name, meeting_date, data_version, flagged_json, saved_by, saved_at"
                " from meetings order by meeting_date desc, id desc").fetchall()
    frame = pd.DataFrame(rows, columns=columns)
    frame["flagged"] = [len(json.loads(text)) for text in frame["flagged"]]
    frame["saved_at"] = local_time(frame["saved_at"])
    return frame


def load_meeting(conn: duckdb.DuckDBPyConnection | StateStore,
                 meeting_id: int) -> Meeting | None:
    store = _state(conn)
    if store is None or not store.exists():
        return None
    with store.connect() as state:
        row = state.execute("select " + _RECORD_COLUMNS + " from meetings where id = ?",
                            (int(meeting_id),)).fetchone()
    return None if row is None else _meeting(row)


def latest_meeting(conn: duckdb.DuckDBPyConnection | StateStore) -> Meeting | None:
    """The meeting with the latest date (the last saved among those of that day)."""
    store = _state(conn)
    if store is None or not store.exists():
        return None
    with store.connect() as state:
        row = state.execute("select " + _RECORD_COLUMNS + " from meetings"
                            " order by meeting_date desc, id desc limit 1").fetchone()
    return None if row is None else _meeting(row)


def delete_meeting(conn: duckdb.DuckDBPyConnection, meeting_id: int, user: User) -> bool:
    """Delete a meeting (administrators); its snapshot goes with the last
    meeting that needed it. False when there was no such meeting."""
    if not permissions.may_delete_meeting(user):
        raise MeetingError(t("meeting.error.delete_role"))
    store = _state(conn)
    if store is None:
        return False
    with store.write() as state:
        row = state.execute("select snapshot from meetings where id = ?",
                            (int(meeting_id),)).fetchone()
        if row is None:
            return False
        state.execute("delete from meetings where id = ?", (int(meeting_id),))
        still_used = state.execute("select count(*) from meetings where snapshot = ?",
                                   (row[0],)).fetchone()[0]
        state_store.bump_counter(state, MEETING_VERSION_KEY)
        path = db.database_path(conn)
        if not still_used and path is not None:
            try:
                name = valid_snapshot(row[0])
            except MeetingError:
                log.warning("meeting %s named snapshot %r: not a snapshot name, left alone",
                            meeting_id, row[0])
            else:
                # Inside the write: a save reusing this file waits, then makes it anew.
                (meetings_dir(path) / name).unlink(missing_ok=True)
    return True


def snapshot_sizes(conn: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(files, bytes) of the meetings' snapshots on disk (blocks a hard link
    shares with a backup counted too)."""
    path = db.database_path(conn)
    if path is None or not meetings_dir(path).is_dir():
        return 0, 0
    files = [p for p in meetings_dir(path).iterdir() if p.suffix == backup.BACKUP_SUFFIX]
    return len(files), sum(p.stat().st_size for p in files)


# ---------------------------------------------------------------------------
# What changed since a meeting


@dataclass
class FollowUp:
    """A meeting against the current data, within the viewer's scope.

    items: one row per flagged community × indicator (ITEM_COLUMNS): values
      and statuses then and now, outcome (OUTCOMES), reason (why, in words; ""
      where the data says nothing).
    newly_short: community × indicator not met now that the meeting did not
      flag, same columns.
    districts: one row per dimension — dimension, rated_then, met_share_then,
      rated_now, met_share_now, change (percentage points).
    counts: outcome → number of flagged items; "newly_short" → rows,
      "newly_short_communities" → communities among them.
    """

    meeting: Meeting
    period: Period
    scenario: Scenario
    items: pd.DataFrame
    newly_short: pd.DataFrame
    districts: pd.DataFrame
    counts: dict[str, int]
    notes: list[str] = field(default_factory=list)


def _outcome(status_now: Any, value_then: Any, value_now: Any, direction: str) -> str:
    if not isinstance(status_now, str):
        return "gone"
    if status_now in GOOD_STATUSES:
        return "now_met"
    if status_now != "not_met":
        return "no_data"
    if pd.isna(value_then) or pd.isna(value_now) or abs(value_now - value_then) < 1e-9:
        return "still_not_met"
    better = value_now > value_then if direction == "at_least" else value_now < value_then
    return "improved" if better else "worse"


def _data_rows(conn: duckdb.DuckDBPyConnection, period: Period, view_filter: ViewFilter,
               scope: Scope) -> dict[tuple[str, str], dict[str, tuple[int, str]]]:
    """(community, table) → {period key: (import id, fingerprint)}."""
    params = indicators.query_params(conn, period, view_filter, scope=scope)
    wanted = {key: params[key] for key in ("scope_streets", "year", "month_from", "month_to")}
    cur = conn.cursor()
    try:
        with db.COMMIT_GATE.reading():
            rows = cur.execute(db.read_sql("meeting_data_rows"), wanted).fetchall()
    finally:
        cur.close()
    out: dict[tuple[str, str], dict[str, tuple[int, str]]] = {}
    for community_id, table, key, import_id, fingerprint in rows:
        out.setdefault((community_id, table), {})[key] = (import_id, fingerprint)
    return out


def _keys_text(keys: list[str]) -> str:
    return t("text.list_separator").join(sorted(keys))


def _data_reasons(community_id: str, dimension: str, then_rows: dict, now_rows: dict) -> list[str]:
    reasons = []
    for table in DIMENSION_TABLES[dimension]:
        before = then_rows.get((community_id, table), {})
        after = now_rows.get((community_id, table), {})
        label = table_label(table)
        if table in PERIOD_TABLES:
            new = [k for k in after if k not in before]
            corrected = [k for k in after if k in before and after[k][1] != before[k][1]]
            if new:
                reasons.append(t(f"meeting.reason.new_{table}", table=label,
                                 periods=_keys_text(new)))
            if corrected:
                reasons.append(t(f"meeting.reason.corrected_{table}", table=label,
                                 periods=_keys_text(corrected)))
        elif after.get("", (None, None))[1] != before.get("", (None, None))[1]:
            reasons.append(t("meeting.reason.updated", table=label))
    return reasons


def _standard_reason(indicator_id: str, then: Standards, now: Standards,
                     then_name: str, now_name: str) -> str | None:
    before, after = then.indicator(indicator_id), now.indicator(indicator_id)
    changed = [key for key in after.settings if then.settings.get(key) != now.settings.get(key)]
    same = (before.floor == after.floor and before.target == after.target and not changed)
    if same:
        return None
    return t("meeting.reason.standard", then=presentation.threshold_bounds(indicator_id, then),
             now=presentation.threshold_bounds(indicator_id, now), then_name=then_name,
             now_name=now_name)


def _district_shares(then_values: pd.DataFrame, now_values: pd.DataFrame) -> pd.DataFrame:
    before = indicators.dimension_summary(then_values).set_index("dimension")
    after = indicators.dimension_summary(now_values).set_index("dimension")
    frame = pd.DataFrame({
        "dimension": before.index,
        "rated_then": before["rated"].to_numpy(),
        "met_share_then": before["met_share_pct"].to_numpy(),
        "rated_now": after["rated"].reindex(before.index).to_numpy(),
        "met_share_now": after["met_share_pct"].reindex(before.index).to_numpy(),
    })
    frame["change"] = frame["met_share_now"] - frame["met_share_then"]
    return frame.reset_index(drop=True)


def follow_up(
    conn: duckdb.DuckDBPyConnection,
    meeting: Meeting,
    period: Period,
    scenario: Scenario,
    scope: Scope = ALL_STREETS,
) -> FollowUp:
    """The meeting's flagged list against the current data: the meeting's
    filters on both sides; then = its snapshot, period and standards; now =
    conn's data with `period` and `scenario`. Street accounts (`scope`) see
    their own communities only."""
    then_standards, now_standards = meeting.scenario.standards(), scenario.standards()
    with open_snapshot(conn, meeting) as old:
        then_values = indicators.indicator_values(
            old, meeting.period, meeting.view_filter, then_standards, scope).to_pandas()
        then_rows = _data_rows(old, meeting.period, meeting.view_filter, scope)
    now_values = indicators.indicator_values(
        conn, period, meeting.view_filter, now_standards, scope).to_pandas()
    now_rows = _data_rows(conn, period, meeting.view_filter, scope)

    catalogue = load_catalogue()
    # Plain dicts: a thousand flagged items looked up in a pandas index took seconds.
    then_index = {(r["community_id"], r["indicator_id"]): r
                  for r in then_values[["community_id", "indicator_id", "value", "status"]]
                  .to_dict("records")}
    now_index = {(r["community_id"], r["indicator_id"]): r
                 for r in now_values[["community_id", "indicator_id", "value", "status"]]
                 .to_dict("records")}
    visible = set(then_values["community_id"]) | set(now_values["community_id"])
    names = {r["community_id"]: r for r in pd.concat([then_values, now_values])[
        ["community_id", "community_name", "street"]].to_dict("records")}
    reasons_of: dict[tuple[str, str], list[str]] = {}
    then_name = scenarios.scenario_label(meeting.scenario)
    now_name = scenarios.scenario_label(scenario)

    def row_for(community_id: str, indicator_id: str, fallback: dict | None) -> dict:
        item = catalogue.indicator(indicator_id)
        before = then_index.get((community_id, indicator_id))
        after = now_index.get((community_id, indicator_id))
        value_then = before["value"] if before is not None else (fallback or {}).get("value")
        status_then = before["status"] if before is not None else (fallback or {}).get("status")
        value_now = after["value"] if after is not None else None
        status_now = after["status"] if after is not None else None
        if (community_id, item.dimension) not in reasons_of:
            reasons_of[(community_id, item.dimension)] = _data_reasons(
                community_id, item.dimension, then_rows, now_rows)
        reasons = list(reasons_of[(community_id, item.dimension)])
        standard = _standard_reason(indicator_id, then_standards, now_standards,
                                    then_name, now_name)
        if standard:
            reasons.append(standard)
        known = names.get(community_id)
        return {
            "community_id": community_id,
            "community_name": known["community_name"] if known is not None
            else (fallback or {}).get("community_name"),
            "street": known["street"] if known is not None else (fallback or {}).get("street"),
            "indicator_id": indicator_id,
            "value_then": _float(value_then), "status_then": status_then,
            "value_now": _float(value_now), "status_now": status_now,
            "outcome": _outcome(status_now, _float(value_then), _float(value_now),
                                item.direction),
            "reason": t("text.clause_separator").join(reasons),
        }

    flagged = meeting.flagged
    if scope is not ALL_STREETS:
        flagged = flagged[flagged["community_id"].isin(visible)
                          | flagged["street"].isin(scope)]
    items = [row_for(r["community_id"], r["indicator_id"], r) for r in flagged.to_dict("records")]
    flagged_keys = set(zip(meeting.flagged["community_id"], meeting.flagged["indicator_id"],
                           strict=True))
    short_now = now_values[now_values["status"] == "not_met"]
    newly = [row_for(r["community_id"], r["indicator_id"], None)
             for r in short_now.to_dict("records")
             if (r["community_id"], r["indicator_id"]) not in flagged_keys]
    item_frame = _ordered(pd.DataFrame(items, columns=ITEM_COLUMNS))
    newly_frame = _ordered(pd.DataFrame(newly, columns=ITEM_COLUMNS))
    counts = {outcome: int((item_frame["outcome"] == outcome).sum()) for outcome in OUTCOMES}
    counts["flagged"] = len(item_frame)
    counts["newly_short"] = len(newly_frame)
    counts["newly_short_communities"] = int(newly_frame["community_id"].nunique())
    notes = []
    if meeting.period != period:
        notes.append(t("meeting.note.period", then=presentation.describe_period(meeting.period),
                       now=presentation.describe_period(period)))
    return FollowUp(meeting, period, scenario, item_frame, newly_frame,
                    _district_shares(then_values, now_values), counts, notes)


def _float(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    return float(value)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """What moved first (worse, now met, improved, then no data), the unchanged
    last, so a printed page that lists only the first rows shows the news;
    then street, community, catalogue order."""
    if frame.empty:
        return frame.reset_index(drop=True)
    rank = {o: n for n, o in enumerate(("worse", "now_met", "improved", "no_data", "gone",
                                        "still_not_met"))}
    order = {item.id: n for n, item in enumerate(load_catalogue().indicators)}
    frame = frame.assign(_outcome=frame["outcome"].map(rank),
                         _indicator=frame["indicator_id"].map(order))
    frame = frame.sort_values(["_outcome", "street", "community_id", "_indicator"],
                              kind="stable")
    return frame.drop(columns=["_outcome", "_indicator"]).reset_index(drop=True)


def latest_follow_up(conn: duckdb.DuckDBPyConnection, period: Period, scenario: Scenario,
                     scope: Scope = ALL_STREETS) -> FollowUp | None:
    """The follow-up of the last meeting, None when there is none (or its
    snapshot is gone: logged, the brief is then printed without it)."""
    try:
        meeting = latest_meeting(conn)
        if meeting is None:
            return None
        return follow_up(conn, meeting, period, scenario, scope)
    except MeetingError as problem:
        log.warning("last meeting unusable (%s); brief printed without its follow-up", problem)
        return None
    except duckdb.Error:
        log.exception("last meeting's snapshot does not read; brief printed without its"
                      " follow-up")
        return None


# ---------------------------------------------------------------------------
# Display and export


def outcome_word(outcome: Any) -> str:
    return t(f"meeting.outcome.{outcome}") if isinstance(outcome, str) else ""


def items_for_display(frame: pd.DataFrame) -> pd.DataFrame:
    """Indicator names, status and outcome words, each value to its indicator's decimals."""
    shown = frame.drop(columns=["community_id"]).copy()
    for column in ("value_then", "value_now"):
        shown[column] = presentation.round_to_indicator(shown[column].astype("float64"),
                                                        shown["indicator_id"])
    shown["indicator_id"] = shown["indicator_id"].map(presentation.indicator_column_label)
    for column in ("status_then", "status_now"):
        shown[column] = shown[column].map(presentation.status_word)
    shown["outcome"] = shown["outcome"].map(outcome_word)
    return shown


def districts_for_display(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame.copy()
    shown["dimension"] = shown["dimension"].map(lambda d: t(f"dimension.{d}"))
    for column in ("met_share_then", "met_share_now", "change"):
        shown[column] = presentation.round_half_up(shown[column].astype("float64"), 1)
    return shown


def column_label(name: str) -> str:
    return t(f"meeting.column.{name}")


def summary_lines(result: FollowUp) -> list[str]:
    """The follow-up in a few sentences (page caption, brief lead, Excel)."""
    meeting = result.meeting
    counts = result.counts
    lines = [
        t("meeting.summary.meeting", name=meeting.name, date=meeting.meeting_date.isoformat(),
          version=meeting.data_version, scenario=scenarios.scenario_label(meeting.scenario)),
        t("meeting.summary.counts", flagged=counts["flagged"], now_met=counts["now_met"],
          improved=counts["improved"], still=counts["still_not_met"], worse=counts["worse"],
          no_data=counts["no_data"] + counts["gone"]),
        t("meeting.summary.newly_short", rows=counts["newly_short"],
          communities=counts["newly_short_communities"]),
    ]
    return lines + list(result.notes)


def export_sheets(result: FollowUp) -> dict[str, pd.DataFrame]:
    """The follow-up's tables, Chinese headers (the brief workbook's first sheets)."""
    return {
        t("meeting.sheet.follow_up"): items_for_display(result.items).rename(
            columns=column_label),
        t("meeting.sheet.newly_short"): items_for_display(result.newly_short).rename(
            columns=column_label),
        t("meeting.sheet.districts"): districts_for_display(result.districts).rename(
            columns=column_label),
    }
