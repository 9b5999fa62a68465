"""The load benchmark's /proc readers tolerate kernels that differ from ours."""

from __future__ import annotations

from benchmarks.load import parse_autogroup


def test_autogroup_is_read_from_a_populated_file():
    assert parse_autogroup("/autogroup-131 nice 0\n") == "/autogroup-131"


def test_an_empty_autogroup_file_means_no_group():
    # A task in no autogroup (as on CI) gets an empty file.
    assert parse_autogroup("") is None
    assert parse_autogroup("\n") is None


def test_unexpected_autogroup_text_means_no_group():
    assert parse_autogroup("nice 0") is None
