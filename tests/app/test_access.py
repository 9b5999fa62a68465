"""Who sees what: sign-in, each role's view and pages, default deny, local mode.
Expected counts come from the shipped sample CSV, not from the app's queries."""

from __future__ import annotations

import csv

import pytest
from streamlit.testing.v1 import AppTest

from governance import auth
from governance.text import t
from tests.app.conftest import TIMEOUT_S
from tests.conftest import PROJECT_DIR, SAMPLE_DIR, street_account_without_streets

PASSWORD = "correct-horse-battery"


def _communities() -> list[dict]:
    with open(SAMPLE_DIR / "communities.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


STREET = sorted({r["street"] for r in _communities()})[0]


@pytest.fixture
def accounts(app_db):
    store = auth.Accounts(auth.accounts_path(app_db))
    store.add_user("admin", PASSWORD, "admin")
    store.add_user("leader", PASSWORD, "leader")
    store.add_user("jie", PASSWORD, "street", (STREET,))
    street_account_without_streets(store, "nobody", PASSWORD)
    return store


def _app() -> AppTest:
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    return at


def _sign_in(username: str, password: str = PASSWORD) -> AppTest:
    at = _app()
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_local_mode_without_accounts_says_so(app):
    assert any("单机模式" in c.value for c in app.sidebar.caption)
    assert _metric(app, t("overview.kpi.communities")) == str(len(_communities()))


def test_with_accounts_nothing_shows_before_sign_in(accounts):
    at = _app()
    assert at.text_input(key="signin_username") is not None
    assert not at.metric and not at.dataframe
    assert not any(t("filter.streets") == m.label for m in at.multiselect)


def test_wrong_password_is_refused_and_audited(accounts):
    at = _sign_in("jie", "not-the-password")
    assert [e.value for e in at.error] == [t("auth.sign_in.failed")]
    assert not at.metric
    log = accounts.audit_log(action="sign_in")
    assert log.iloc[0]["username"] == "jie" and log.iloc[0]["outcome"] == "refused"


def test_street_account_sees_only_its_street(accounts):
    at = _sign_in("jie")
    in_street = [r for r in _communities() if r["street"] == STREET]
    assert _metric(at, t("overview.kpi.communities")) == str(len(in_street))
    assert at.multiselect(key="filter_streets").options == [STREET]
    assert accounts.audit_log(action="sign_in").iloc[0]["outcome"] == "ok"
    at.switch_page("pages/safety.py").run()
    assert not at.exception
    assert _metric(at, t("safety.kpi.communities")) == str(len(in_street))
    # The accounts page is not even in a street account's navigation.
    with pytest.raises(ValueError, match="admin.py"):
        at.switch_page("pages/admin.py")


def test_a_page_run_directly_still_asks_for_sign_in(accounts):
    at = AppTest.from_file(str(PROJECT_DIR / "pages" / "admin.py"), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception
    assert at.text_input(key="signin_username") is not None
    assert not at.dataframe


def test_street_account_may_import_but_not_save_scenarios(accounts):
    at = _sign_in("jie")
    at.switch_page("pages/data.py").run()
    assert not at.exception and not at.error
    at.switch_page("pages/scenarios.py").run()
    assert not at.exception
    assert any(c.value == t("scenario.read_only") for c in at.caption)
    assert not [b for b in at.button if b.key == "scenario_save"]


def test_an_account_with_no_street_sees_nothing(accounts):
    at = _sign_in("nobody")
    assert [i.value for i in at.info][-1] == t("overview.empty")
    assert not at.dataframe


def test_leader_sees_everything_but_cannot_import(accounts):
    at = _sign_in("leader")
    assert _metric(at, t("overview.kpi.communities")) == str(len(_communities()))
    with pytest.raises(ValueError, match="data.py"):
        at.switch_page("pages/data.py")
    at.switch_page("pages/scenarios.py").run()
    assert [b for b in at.button if b.key == "scenario_save"]


def test_admin_page_lists_accounts_and_the_audit_log(accounts):
    at = _sign_in("admin")
    at.switch_page("pages/admin.py").run()
    assert not at.exception
    users = at.dataframe[0].value
    assert sorted(users[t("admin.column.username")]) == ["admin", "jie", "leader", "nobody"]
    assert not any("hash" in c for c in users.columns)
    log = at.dataframe[1].value
    assert t("audit.action.sign_in") in set(log[t("admin.column.action")])


def test_admin_creates_a_street_account_from_the_page(accounts):
    at = _sign_in("admin")
    at.switch_page("pages/admin.py").run()
    at.text_input(key="admin_new_username").input("jie2")
    at.selectbox(key="admin_new_role").set_value("street")
    at.multiselect(key="admin_new_streets").set_value([STREET])
    at.text_input(key="admin_new_password").input("another-long-password")
    next(b for b in at.button if "admin_add_user" in b.id or b.label == t("admin.create")
         ).click().run()
    assert not at.exception
    created = accounts.get_user("jie2")
    assert created is not None and created.streets == (STREET,)
    assert accounts.audit_log(action="user_add").iloc[0]["username"] == "admin"


def test_sign_out_returns_to_the_form(accounts):
    at = _sign_in("leader")
    at.button(key="sign_out").click().run()
    assert at.text_input(key="signin_username") is not None
    assert not at.metric


def test_local_mode_refuses_to_show_data_on_a_network_address(app_db):
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = _app()
        assert [e.value for e in at.error] == [t("auth.local_mode.exposed")]
        assert not at.metric and not at.dataframe
    finally:
        config.set_option("server.address", before)


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_local_mode_refuses_to_show_data_through_a_reverse_proxy(app_db, monkeypatch, header):
    """Listening on 127.0.0.1 behind nginx is reachable from the network: a
    session that came through a proxy is refused while there is no account."""
    import types

    import streamlit

    monkeypatch.setattr(streamlit, "context", types.SimpleNamespace(
        headers={header: "10.0.0.8"}, cookies={}))
    at = _app()
    assert [e.value for e in at.error] == [t("auth.local_mode.exposed")]
    assert not at.metric and not at.dataframe


def test_with_accounts_a_network_address_is_allowed(accounts):
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "0.0.0.0")
    try:
        at = _sign_in("leader")
        assert _metric(at, t("overview.kpi.communities")) == str(len(_communities()))
    finally:
        config.set_option("server.address", before)


def _safety_csv(community_ids: list[str]) -> bytes:
    lines = ["社区编码,月份,刑事案件数"] + [f"{cid},2025-12,0" for cid in community_ids]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_a_street_account_cannot_import_another_streets_rows(accounts, app_db):
    at = _sign_in("jie")
    at.switch_page("pages/data.py").run()
    mine = [r["community_id"] for r in _communities() if r["street"] == STREET][:2]
    other = next(r for r in _communities() if r["street"] != STREET)
    at.file_uploader(key="upload_files").set_value(
        ("月报.csv", _safety_csv([*mine, other["community_id"]]), "text/csv")).run()
    assert not at.exception, at.exception
    problems = at.dataframe[0].value
    assert list(problems[t("column.row")].dropna().astype(int)) == [4]
    assert other["street"] in " ".join(problems[t("column.reason")])
    assert at.button(key="apply_import").disabled
    # Its own rows alone go through, and the audit log says who imported.
    at.file_uploader(key="upload_files").set_value(
        ("月报.csv", _safety_csv(mine), "text/csv")).run()
    at.button(key="apply_import").click().run()
    assert not at.exception
    assert any("已导入" in s.value for s in at.success)
    entry = accounts.audit_log(action="import").iloc[0]
    assert entry["username"] == "jie" and entry["outcome"] == "ok"


def test_a_leader_deletes_only_their_own_scenarios(accounts, app_db):
    import duckdb

    from governance import scenarios

    raised = scenarios.from_values(None, {"F01": (30.0, 30.0)}, {})
    conn = duckdb.connect(str(app_db))
    scenarios.save_scenario(conn, raised, "管理员的情景", auth.User("admin", "admin", "admin"))
    scenarios.save_scenario(conn, raised, "区领导的情景", auth.User("leader", "leader", "leader"))
    conn.close()
    at = _sign_in("leader")
    for name, may_delete in (("管理员的情景", False), ("区领导的情景", True)):
        at.selectbox(key="filter_scenario").set_value(name).run()
        at.switch_page("pages/scenarios.py").run()
        assert not at.exception, at.exception
        assert any(b.key == "scenario_delete" for b in at.button) is may_delete, name
