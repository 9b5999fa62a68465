"""governance.auth: Argon2id hashes, roles and scope, lockout, the audit log."""

from __future__ import annotations

import os
import sqlite3
import stat

import pandas as pd
import pytest

from governance import auth

PASSWORD = "correct-horse-battery"


@pytest.fixture
def store(tmp_path):
    return auth.Accounts(tmp_path / "accounts.sqlite")


def test_a_new_store_has_no_accounts_and_means_local_mode(store):
    assert not store.any_accounts()
    assert auth.local_user().role == "admin" and auth.local_user().scope is None


def test_add_and_verify_with_argon2id(store):
    user = store.add_user("jie1", PASSWORD, "street", ("东关街道",), "东关街道办")
    assert user.scope == ("东关街道",) and user.can_import and not user.can_edit_scenarios
    assert store.any_accounts()
    with sqlite3.connect(store.path) as conn:
        (stored,) = conn.execute("select password_hash from users").fetchone()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert store.verify("jie1", PASSWORD) == user
    assert store.verify("jie1", "wrong-password") is None
    assert store.verify("nobody", PASSWORD) is None


def test_roles_decide_scope_and_rights(store):
    admin = store.add_user("admin", PASSWORD, "admin", ("东关街道",))
    leader = store.add_user("leader", PASSWORD, "leader")
    empty = store.add_user("nobody", PASSWORD, "street", ())
    assert admin.scope is None and admin.streets == ()  # streets ignored for admins
    assert leader.scope is None and leader.can_edit_scenarios and not leader.can_import
    assert empty.scope == ()  # default deny: no street, nothing visible


def test_five_failures_lock_the_account_until_a_success_window(store):
    store.add_user("jie1", PASSWORD, "street", ("东关街道",))
    for _ in range(auth.MAX_FAILURES):
        assert store.verify("jie1", "wrong-password") is None
    # Even the right password is refused while locked.
    assert store.verify("jie1", PASSWORD) is None
    log = store.audit_log(action="sign_in")
    assert (log["outcome"] == "refused").sum() == auth.MAX_FAILURES + 1


def test_refusals(store):
    store.add_user("admin", PASSWORD, "admin")
    with pytest.raises(auth.AccountError):
        store.add_user("admin", PASSWORD, "admin")
    with pytest.raises(auth.AccountError):
        store.add_user("x", "short", "admin")
    with pytest.raises(auth.AccountError):
        store.add_user("x y", PASSWORD, "admin")
    with pytest.raises(auth.AccountError):
        store.add_user("x", PASSWORD, "superuser")
    with pytest.raises(auth.AccountError):
        store.remove_user("admin")  # the last administrator
    assert list(store.list_users()["username"]) == ["admin"]


def test_list_never_shows_hashes_and_changes_apply(store):
    store.add_user("admin", PASSWORD, "admin")
    store.add_user("jie1", PASSWORD, "street", ("东关街道",))
    store.set_access("jie1", "street", ("东关街道", "古城街道"))
    store.set_password("jie1", "another-long-password")
    users = store.list_users()
    assert "password_hash" not in users.columns
    assert users.set_index("username").loc["jie1", "streets"] == "东关街道、古城街道"
    assert store.verify("jie1", "another-long-password").streets == ("东关街道", "古城街道")
    store.remove_user("jie1")
    assert store.get_user("jie1") is None


def test_audit_log_newest_first_and_filtered(store):
    store.audit("a", "import", "x.csv", "ok")
    store.audit("b", "export", "y.xlsx", "ok")
    log = store.audit_log()
    assert list(log["action"]) == ["export", "import"]
    assert list(store.audit_log(action="import")["username"]) == ["a"]


def test_accounts_path_sits_beside_the_database(tmp_path, monkeypatch):
    monkeypatch.delenv(auth.ACCOUNTS_ENV_VAR, raising=False)
    assert auth.accounts_path(tmp_path / "x.duckdb") == tmp_path.resolve() / "accounts.sqlite"
    monkeypatch.setenv(auth.ACCOUNTS_ENV_VAR, str(tmp_path / "elsewhere.sqlite"))
    assert auth.accounts_path(tmp_path / "x.duckdb") == tmp_path / "elsewhere.sqlite"


@pytest.mark.parametrize(("address", "local"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False),
    ("10.1.2.3", False), ("", False), (None, False),
])
def test_loopback_addresses(address, local):
    assert auth.is_loopback(address) is local


def test_oidc_claims_map_to_a_local_account_name():
    assert auth.oidc_username({"preferred_username": "jie1", "email": "x@y"}) == "jie1"
    assert auth.oidc_username({"email": "jie1@bureau.gov"}) == "jie1@bureau.gov"
    assert auth.oidc_username({}) == ""


def test_admin_reads_local_times_words_and_the_local_user_by_name(store, monkeypatch):
    import time

    from governance.text import t

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        store.add_user("leader", "correct-horse-battery", "leader")
        store.audit(auth.LOCAL_USERNAME, "export", "a.xlsx")
        raw_log, raw_users = store.audit_log(), store.list_users()
        log = auth.audit_log_for_display(raw_log)
        users = auth.users_for_display(raw_users)
    finally:
        monkeypatch.undo()
        time.tzset()
    stored_at = pd.Timestamp(raw_log["at"].iloc[0])
    assert log["at"].iloc[0] == stored_at + pd.Timedelta(hours=8)
    assert log["username"].iloc[0] == t("auth.local_user")
    assert log["action"].iloc[0] == t("audit.action.export")
    assert users["created_at"].iloc[0] == pd.Timestamp(raw_users["created_at"].iloc[0]) \
        + pd.Timedelta(hours=8)
    assert users["role"].iloc[0] == t("auth.role.leader")
    # The headers no longer claim UTC.
    assert "UTC" not in t("admin.column.at") + t("admin.column.created_at")
