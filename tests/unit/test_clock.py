"""Stored UTC shown in the server's local time."""

from __future__ import annotations

import time
from datetime import datetime

import pandas as pd
import pytest

from governance import clock


@pytest.fixture
def shanghai(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_utc_is_shown_in_the_servers_time_zone(shanghai):
    stored = pd.Series([datetime(2026, 12, 1, 2, 18, 12, 345678), None])
    shown = clock.local_time(stored)
    assert shown.iloc[0] == pd.Timestamp("2026-12-01 10:18:12")
    assert pd.isna(shown.iloc[1])


def test_iso_strings_as_the_audit_log_keeps_them(shanghai):
    shown = clock.local_time(pd.Series(["2026-11-30T20:05:00"]))
    # Past midnight in Beijing: the date moves on too.
    assert shown.tolist() == [pd.Timestamp("2026-12-01 04:05:00")]


def test_mixed_iso_precision_from_an_older_log_is_read(shanghai):
    shown = clock.local_time(pd.Series(["2026-11-30T20:05:00", "2026-11-30T20:05:00.5"]))
    assert shown.tolist() == [pd.Timestamp("2026-12-01 04:05:00")] * 2


def test_each_moment_gets_its_own_daylight_saving_offset(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        shown = clock.local_time(pd.Series([datetime(2026, 1, 15, 12), datetime(2026, 7, 15, 12)]))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert shown.tolist() == [pd.Timestamp("2026-01-15 13:00"), pd.Timestamp("2026-07-15 14:00")]
