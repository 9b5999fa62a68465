"""Every table on every page is headed in Chinese: a column whose label was
forgotten would show its snake_case name (as level_yuan_assumed once did)."""

from __future__ import annotations

import json
import re

import pytest

from tests.app.conftest import TIMEOUT_S

# A raw column name, as the frames carry it: it has no place on screen.
RAW_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)+$")

PAGES = {
    "overview": ("pages/overview.py", None),
    # Conditional tables appear once there is something to compare.
    "facilities": ("pages/facilities.py",
                   lambda at: at.text_area(key="proposals_text").input("117.0123,32.6345")),
    "funding": ("pages/funding.py", None),
    "safety": ("pages/safety.py", None),
    "scenarios": ("pages/scenarios.py",
                  lambda at: at.number_input(key="scn_floor_F01").set_value(30.0)),
    "data": ("pages/data.py", None),
    "admin": ("pages/admin.py", None),
}


def shown_headers(table) -> list[str]:
    """The headers a reader sees: the column config's label where it sets one,
    only the columns in column_order where the table orders them."""
    config = json.loads(table.proto.columns) if table.proto.columns else {}
    order = list(table.proto.column_order) or [str(c) for c in table.value.columns]
    return [(config.get(name) or {}).get("label") or name for name in order]


@pytest.mark.parametrize("name", list(PAGES))
def test_every_table_header_is_a_label_not_a_column_name(app, name):
    path, interact = PAGES[name]
    app.switch_page(path).run(timeout=TIMEOUT_S)
    if interact is not None:
        interact(app).run(timeout=TIMEOUT_S)
    assert not app.exception, app.exception
    assert len(app.dataframe) > 0
    raw = {header for table in app.dataframe for header in shown_headers(table)
           if RAW_NAME.match(header)}
    assert raw == set(), f"{name}: {sorted(raw)}"
