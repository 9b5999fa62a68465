"""governance.auth: Argon2id hashes, roles and scope, lockout, the audit log."""

from __future__ import annotations

import os
import sqlite3
import stat

import pandas as pd
import pytest

from governance import auth
from governance.text import t
from tests.conftest import street_account_without_streets

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
    street_account_without_streets(store, "nobody", PASSWORD)
    empty = store.verify("nobody", PASSWORD)
    assert admin.scope is None and admin.streets == ()  # streets ignored for admins
    assert leader.scope is None and leader.can_edit_scenarios and not leader.can_import
    assert empty.scope == ()  # default deny: no street, nothing visible


def test_a_street_account_needs_a_street(store):
    with pytest.raises(auth.AccountError, match="至少一个街道"):
        store.add_user("nobody", PASSWORD, "street", ())
    with pytest.raises(auth.AccountError, match="至少一个街道"):
        store.add_user("nobody", PASSWORD, "street", ("  ",))
    store.add_user("jie", PASSWORD, "street", ("东关街道",))
    with pytest.raises(auth.AccountError, match="至少一个街道"):
        store.set_access("jie", "street", ())
    assert store.verify("jie", PASSWORD).streets == ("东关街道",)


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


# -- the same work for every refusal -------------------------------------------------


class _VerifySpy:
    """The real Argon2 hasher, counting verifications and the hashes used."""

    def __init__(self, real):
        self.real = real
        self.verified: list[str] = []

    def verify(self, stored, password):
        self.verified.append(stored)
        return self.real.verify(stored, password)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def spy(monkeypatch):
    hasher = _VerifySpy(auth._HASHER)
    monkeypatch.setattr(auth, "_HASHER", hasher)
    return hasher


def _stored_hash(store, username):
    with sqlite3.connect(store.path) as conn:
        return conn.execute("select password_hash from users where username = ?",
                            (username,)).fetchone()[0]


def test_each_refusal_runs_exactly_one_argon2_verification(store, spy):
    store.add_user("jie1", PASSWORD, "street", ("东关街道",))
    store.add_user("locked", PASSWORD, "street", ("东关街道",))
    for _ in range(auth.MAX_FAILURES):
        store.verify("locked", "wrong-password")
    spy.verified.clear()

    cases = {
        "unknown name": ("nobody", PASSWORD, auth._DUMMY_HASH),
        "wrong password": ("jie1", "wrong-password", _stored_hash(store, "jie1")),
        "locked, right password": ("locked", PASSWORD, _stored_hash(store, "locked")),
        "locked, wrong password": ("locked", "wrong-password", _stored_hash(store, "locked")),
        "empty name": ("", "", auth._DUMMY_HASH),
    }
    for case, (username, password, expected_hash) in cases.items():
        spy.verified.clear()
        assert store.verify(username, password) is None, case
        assert spy.verified == [expected_hash], case
    # And a success: also one.
    spy.verified.clear()
    assert store.verify("jie1", PASSWORD).username == "jie1"
    assert len(spy.verified) == 1
    reasons = list(store.audit_log(action="sign_in")["detail"])
    assert t("auth.audit.locked") in reasons and t("auth.audit.bad_password") in reasons


def test_the_dummy_hash_costs_what_a_real_one_costs(store):
    from argon2 import extract_parameters

    store.add_user("jie1", PASSWORD, "admin")
    assert extract_parameters(auth._DUMMY_HASH) == extract_parameters(_stored_hash(store, "jie1"))


# -- sign-in sessions (a reload keeps the sign-in) -------------------------------------


def _sessions(store) -> list[tuple]:
    with sqlite3.connect(store.path) as conn:
        return conn.execute(
            "select id, username, created_at, expires_at, revoked_at, token_hash, ticket_hash"
            " from sessions order by created_at, id").fetchall()


def _signed_in(store, username="jie1"):
    session, ticket = store.start_session(username)
    cookie, max_age = store.redeem_ticket(ticket)
    return session, ticket, cookie, max_age


def test_a_ticket_turns_into_a_signed_cookie_once(store):
    from datetime import datetime

    store.add_user("jie1", PASSWORD, "street", ("东关街道",))
    session, ticket, cookie, max_age = _signed_in(store)
    assert auth.SESSION_MAX_AGE.total_seconds() - 5 <= max_age <= 8 * 3600
    token, signature = cookie.split(".")
    assert len(token) >= 40 and len(signature) >= 40
    # The ticket works once; the stored row has hashes only.
    assert store.redeem_ticket(ticket) is None
    ((sid, username, created, expires, revoked, token_hash, ticket_hash),) = _sessions(store)
    assert (sid, username, revoked, ticket_hash) == (session, "jie1", None, None)
    assert datetime.fromisoformat(expires) - datetime.fromisoformat(created) == \
        auth.SESSION_MAX_AGE
    assert token not in store.path.read_bytes().decode("latin-1")
    assert ticket not in store.path.read_bytes().decode("latin-1")
    assert token_hash == auth._sha256(token)
    # The cookie finds the session and its account.
    assert store.resume(cookie) == (session, store.get_user("jie1"))
    assert store.session_user(session) == store.get_user("jie1")


def test_forged_or_foreign_cookies_are_refused(store, tmp_path):
    store.add_user("jie1", PASSWORD, "admin")
    _, _, cookie, _ = _signed_in(store)
    token, signature = cookie.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for bad in (token + "." + flipped, token, "." + signature, "", "x" * 500,
                "é." + signature, token[:-1] + "x." + signature):
        assert store.resume(bad) is None, bad
    # Another accounts file signs with another key: its cookie means nothing here.
    other = auth.Accounts(tmp_path / "other.sqlite")
    other.add_user("jie1", PASSWORD, "admin")
    _, _, other_cookie, _ = _signed_in(other)
    assert store.resume(other_cookie) is None and other.resume(cookie) is None


def test_tickets_expire_and_sessions_expire(store):
    store.add_user("jie1", PASSWORD, "admin")
    session, ticket = store.start_session("jie1")
    with sqlite3.connect(store.path) as conn:
        conn.execute("update sessions set ticket_expires_at = '2000-01-01T00:00:00'")
    assert store.redeem_ticket(ticket) is None
    session, _, cookie, _ = _signed_in(store)
    with sqlite3.connect(store.path) as conn:
        conn.execute("update sessions set expires_at = '2000-01-01T00:00:00' where id = ?",
                     (session,))
    assert store.resume(cookie) is None and store.session_user(session) is None
    # Long-expired rows are cleared when the next session starts.
    store.start_session("jie1")
    assert session not in [row[0] for row in _sessions(store)]


@pytest.mark.parametrize("change", ["sign_out", "password", "access", "remove"])
def test_sessions_end_at_sign_out_and_on_any_account_change(store, change):
    store.add_user("admin", PASSWORD, "admin")
    store.add_user("jie1", PASSWORD, "street", ("东关街道",))
    session, _, cookie, _ = _signed_in(store, "jie1")
    other, _, other_cookie, _ = _signed_in(store, "admin")
    if change == "sign_out":
        assert store.end_session(session) == "jie1"
        assert store.end_session(session) is None  # already ended
    elif change == "password":
        store.set_password("jie1", "another-long-password")
    elif change == "access":
        store.set_access("jie1", "street", ("古城街道",))
    else:
        store.remove_user("jie1")
    assert store.resume(cookie) is None and store.session_user(session) is None
    # Another account's session is untouched.
    assert store.resume(other_cookie)[0] == other
    # A ticket not yet exchanged dies with its session.
    if change != "remove":
        _, ticket = store.start_session("jie1")
        store.end_session_by_cookie(store.redeem_ticket(ticket)[0])
        assert all(row[4] is not None for row in _sessions(store) if row[1] == "jie1")


def test_a_rehash_at_sign_in_keeps_the_other_sessions(store, spy):
    store.add_user("jie1", PASSWORD, "admin")
    session, _, cookie, _ = _signed_in(store)
    before = _stored_hash(store, "jie1")
    spy.check_needs_rehash = lambda stored: True
    assert store.verify("jie1", PASSWORD) is not None
    assert _stored_hash(store, "jie1") != before  # rehashed
    assert store.resume(cookie)[0] == session


def test_scope_in_words_never_says_all_for_a_street_account(store):
    store.add_user("admin", PASSWORD, "admin")
    store.add_user("leader", PASSWORD, "leader")
    store.add_user("jie1", PASSWORD, "street", ("东关街道", "古城街道"))
    street_account_without_streets(store, "nobody", PASSWORD)
    shown = auth.with_scope_text(store.list_users()).set_index("username")["streets"]
    assert shown.to_dict() == {
        "admin": t("filter.all"), "leader": t("filter.all"),
        "jie1": "东关街道、古城街道", "nobody": "无（看不到任何数据）",
    }
    assert auth.scope_text("street", ()) == t("auth.scope.none")
    # The accounts page reads the same words.
    page = auth.users_for_display(store.list_users()).set_index("username")["streets"]
    assert page.to_dict() == shown.to_dict()
