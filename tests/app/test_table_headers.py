"""Every table on every page is headed in Chinese: a column whose label was
forgotten would show its snake_case name (as level_yuan_assumed once did)."""

from __future__ import annotations

import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from governance import auth
from tests.app.conftest import TIMEOUT_S
from tests.conftest import PROJECT_DIR

PASSWORD = "correct-horse-battery"
# A raw column name, as the frames carry it (snake_case, or one lowercase
# word such as street): it has no place on screen.
RAW_NAME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+|[a-z][a-z0-9]*)$")

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


def _accounts_with_a_history(app_db) -> None:
    """An account and an audit line, so the admin page has both its tables."""
    store = auth.Accounts(auth.accounts_path(app_db))
    store.add_user("admin", PASSWORD, "admin")
    store.audit("admin", "export", "facility_coverage.xlsx")


def shown_headers(table) -> list[str]:
    """The headers a reader sees: the column config's label where it sets one,
    only the columns in column_order where the table orders them."""
    config = json.loads(table.proto.columns) if table.proto.columns else {}
    order = list(table.proto.column_order) or [str(c) for c in table.value.columns]
    return [(config.get(name) or {}).get("label") or name for name in order]


@pytest.mark.parametrize("name", list(PAGES))
def test_every_table_header_is_a_label_not_a_column_name(app_db, name):
    path, interact = PAGES[name]
    if name == "admin":
        _accounts_with_a_history(app_db)
    app = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    if name == "admin":
        app.text_input(key="signin_username").input("admin")
        app.text_input(key="signin_password").input(PASSWORD)
        app.button[0].click().run()
    app.switch_page(path).run(timeout=TIMEOUT_S)
    if interact is not None:
        interact(app).run(timeout=TIMEOUT_S)
    assert not app.exception, app.exception
    assert len(app.dataframe) > 0
    raw = {header for table in app.dataframe for header in shown_headers(table)
           if RAW_NAME.match(header)}
    assert raw == set(), f"{name}: {sorted(raw)}"
