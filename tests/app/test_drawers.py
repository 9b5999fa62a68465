"""The cached drawers in pages/_drawing.py: replayed for the same input, drawn
afresh for a new one, keyed by function names that are unique."""

from __future__ import annotations

import functools

import pytest

from governance import presentation
from pages import _drawing


def test_a_chart_is_replayed_for_the_same_data_and_rebuilt_for_new_data(app, monkeypatch):
    calls = []
    original = presentation.ranking_bar

    @functools.wraps(original)
    def counting(matrix):
        calls.append(len(matrix))
        return original(matrix)

    monkeypatch.setattr(presentation, "ranking_bar", counting)
    spec = app.get("plotly_chart")[0].proto.spec
    app.run()
    assert calls == []  # replayed: the first run (the fixture's) already drew it
    assert app.get("plotly_chart")[0].proto.spec == spec

    street = app.sidebar.multiselect(key="filter_streets").options[0]
    app.sidebar.multiselect(key="filter_streets").set_value([street]).run()
    assert not app.exception, app.exception
    assert len(calls) == 1 and calls[0] < 117
    assert app.get("plotly_chart")[0].proto.spec != spec


def test_drawers_take_only_functions_with_a_unique_name():
    assert _drawing._function_name(presentation.ranking_bar) == "governance.presentation.ranking_bar"
    with pytest.raises(TypeError, match="module-level"):
        _drawing._function_name(lambda matrix: matrix)


def test_large_frames_key_the_drawers_by_every_row():
    import pandas as pd

    frame = pd.DataFrame({"street": ["东关街道"] * 60_000, "value": range(60_000)})
    changed = frame.copy()
    changed.loc[59_999, "value"] = -1  # Streamlit's own hash samples 10,000 of 60,000 rows
    assert _drawing._content_digest(frame) == _drawing._content_digest(frame.copy())
    assert _drawing._content_digest(frame) != _drawing._content_digest(changed)
    assert _drawing._content_digest(frame["value"]) != _drawing._content_digest(changed["value"])
    with_lists = pd.DataFrame({"rings": [[[1.0, 2.0]], [[3.0, 4.0]]]})
    assert _drawing._content_digest(with_lists) != _drawing._content_digest(with_lists.iloc[::-1])
