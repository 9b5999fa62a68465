"""The state store on both backends: every test runs on SQLite and on a real
PostgreSQL (started by the tests in a temp folder on a loopback port)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from governance import auth, db, scenarios, state_store
from governance.text import t
from tests.cluster.postgres import running_postgres
from tests.conftest import PROJECT_DIR

ADMIN = auth.User("admin", "admin", "admin")
LEADER = auth.User("wang", "王", "leader")
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def postgres():
    with running_postgres() as server:
        try:
            yield server
        finally:  # while the server still answers: the pools close cleanly
            state_store.PostgresStore.close_pools()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path, monkeypatch):
    """An empty state store of each kind, chosen as the app chooses it
    (state_store.open_store: $GOVERNANCE_STATE_URL, else the SQLite file)."""
    monkeypatch.delenv(state_store.STATE_URL_ENV_VAR, raising=False)
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres")
        monkeypatch.setenv(state_store.STATE_URL_ENV_VAR, server.new_database())
    chosen = state_store.open_store(tmp_path / "accounts.sqlite")
    assert chosen.kind == request.param
    return chosen


def test_accounts_sessions_and_audit(store):
    accounts = auth.Accounts(store)
    assert not accounts.any_accounts()
    accounts.add_user("admin", PASSWORD, "admin")
    accounts.add_user("dongguan", PASSWORD, "street", ("东关街道",), display_name="东关街道办")
    with pytest.raises(auth.AccountError):
        accounts.add_user("admin", PASSWORD, "admin")
    assert accounts.any_accounts()
    assert list(accounts.list_users()["username"]) == ["admin", "dongguan"]
    assert accounts.get_user("dongguan").streets == ("东关街道",)

    user = accounts.verify("dongguan", PASSWORD)
    assert user is not None and user.scope == ("东关街道",)
    session_id, ticket = accounts.start_session("dongguan")
    cookie, max_age = accounts.redeem_ticket(ticket)
    assert 0 < max_age <= auth.SESSION_MAX_AGE.total_seconds()
    assert accounts.redeem_ticket(ticket) is None  # once only
    assert accounts.resume(cookie) == (session_id, user)
    assert accounts.resume(cookie[:-2] + "xx") is None  # signature checked

    accounts.set_access("dongguan", "street", ("西关街道",))  # ends every session
    assert accounts.session_user(session_id) is None
    assert accounts.resume(cookie) is None

    log = accounts.audit_log()
    assert list(log["action"]) == ["sign_in"]
    assert list(log["outcome"]) == ["ok"]
    assert accounts.audit_log(action="export").empty


def test_sign_in_lockout_counts_failures_in_the_store(store):
    accounts = auth.Accounts(store)
    accounts.add_user("admin", PASSWORD, "admin")
    for _ in range(auth.MAX_FAILURES):
        assert accounts.verify("admin", "wrong password!") is None
    assert accounts.recent_failures("admin") == auth.MAX_FAILURES
    # Locked: even the right password is refused, and said so in the audit log.
    assert accounts.verify("admin", PASSWORD) is None
    assert accounts.audit_log(limit=1)["outcome"].iloc[0] == "refused"
    # Another Accounts object over the same store (another process) sees it too.
    assert auth.Accounts(store).recent_failures("admin") == auth.MAX_FAILURES + 1


def test_parallel_wrong_passwords_stop_at_the_limit(store):
    """Attempts at once (as from several app processes): each counts the ones
    recorded before it, so exactly MAX_FAILURES are tried and the rest refused
    as locked."""
    accounts = auth.Accounts(store)
    accounts.add_user("admin", PASSWORD, "admin")
    attempts = 3 * auth.MAX_FAILURES
    threads = [threading.Thread(target=accounts.verify, args=("admin", "wrong password!"))
               for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    details = list(accounts.audit_log(action="sign_in")["detail"])
    assert len(details) == attempts
    assert details.count(t("auth.audit.bad_password")) == auth.MAX_FAILURES
    assert details.count(t("auth.audit.locked")) == attempts - auth.MAX_FAILURES


def test_sqlite_state_is_write_ahead_logged_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv(state_store.STATE_URL_ENV_VAR, raising=False)
    store = state_store.open_store(tmp_path / "accounts.sqlite")
    auth.Accounts(store).add_user("admin", PASSWORD, "admin")
    with store.connect() as conn:
        assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
        conn.execute("insert into settings (key, value) values ('k', 'v')")
        # While a connection is open the log and its index sit beside the file.
        beside = [tmp_path / "accounts.sqlite-wal", tmp_path / "accounts.sqlite-shm"]
        assert [p.exists() for p in beside] == [True, True]
        assert {p.stat().st_mode & 0o777 for p in [tmp_path / "accounts.sqlite", *beside]} \
            == {0o600}


def test_a_wrong_state_url_is_named_in_chinese_without_its_password(monkeypatch):
    monkeypatch.setenv(state_store.STATE_URL_ENV_VAR, "mysql://admin:s3cret@db/state")
    with pytest.raises(state_store.ConfigError) as raised:
        state_store.open_store("unused.sqlite")
    message = str(raised.value)
    assert state_store.STATE_URL_ENV_VAR in message and "postgresql://" in message
    assert "s3cret" not in message and "mysql" in message


def test_postgres_sql_refuses_what_it_cannot_translate():
    executed = []
    conn = state_store._PgConnection(type("Fake", (), {
        "execute": lambda self, sql, params: executed.append((sql, params))})())
    conn.execute("select ? where ? = 1", (1, 2))
    assert executed == [("select %s where %s = 1", (1, 2))]
    for sql, params in [("select ? like 'a%'", (1,)), ("select ?", ()), ("select 1", (1,))]:
        with pytest.raises(ValueError):
            conn.execute(sql, params)
    assert len(executed) == 1


def test_scenarios_saved_listed_owned_and_versioned(store):
    raised = scenarios.from_values(None, {"F01": (30.0, 30.0)}, {})
    assert scenarios.scenario_version(store) == 0
    scenarios.save_scenario(store, raised, "三十", LEADER)
    assert scenarios.owner(store, "三十") == "wang"
    assert scenarios.load_scenario(store, "三十") == scenarios.Scenario(
        "三十", raised.thresholds, raised.settings)
    listed = scenarios.list_scenarios(store)
    assert list(listed["name"]) == ["三十"] and list(listed["changes"]) == [1]
    other = auth.User("li", "李", "leader")
    with pytest.raises(scenarios.ScenarioError):
        scenarios.delete_scenario(store, "三十", other)
    assert scenarios.delete_scenario(store, "三十", ADMIN)
    assert scenarios.load_scenario(store, "三十") is None
    assert scenarios.scenario_version(store) == 2


def test_concurrent_saves_lose_nothing(store):
    """Four writers at once (as four app processes would): every save and
    every version bump lands."""
    raised = scenarios.from_values(None, {"F01": (30.0, 30.0)}, {})
    failures = []

    def writer(n: int) -> None:
        try:
            for i in range(8):
                scenarios.save_scenario(store, raised, f"情景{n}-{i}", LEADER)
        except Exception as exc:  # noqa: BLE001 — reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(scenarios.list_scenarios(store)) == 32
    assert scenarios.scenario_version(store) == 32


_HOLD_LOCK = """
import sys, time
from governance import state_store
store = state_store.open_store(sys.argv[1])
with store.import_lock():
    print("held", flush=True)
    time.sleep(600)
"""


def test_import_lock_is_exclusive_across_processes_and_dies_with_its_holder(store, tmp_path):
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(tmp_path / "accounts.sqlite")],
        cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with pytest.raises(state_store.LockTimeout), store.import_lock(timeout_s=1):
            pass
        assert time.monotonic() - started >= 1
    finally:
        holder.kill()  # SIGKILL: no clean-up runs; the kernel or server frees the lock
        holder.wait()
    with store.import_lock(timeout_s=10):
        pass


def test_old_scenarios_in_duckdb_are_copied_once(store, tmp_path):
    """A database from before the state store kept scenarios in DuckDB: they
    appear once, and one deleted afterwards does not come back."""
    db_path = tmp_path / "old.duckdb"
    conn = db.connect(db_path)
    cur = conn.cursor()
    cur.execute(db.read_sql("scenario_insert"), {
        "name": "旧情景", "payload_json": scenarios.from_values(
            None, {"F01": (25.0, 30.0)}, {}).to_json(),
        "changes": 1, "saved_at": "2026-01-02 03:04:05", "saved_by": "wang"})
    cur.close()
    scenarios._MIGRATED.clear()
    target = scenarios._state(conn)
    assert target.key == store.key  # the same store the app would use
    assert list(scenarios.list_scenarios(conn)["name"]) == ["旧情景"]
    assert scenarios.owner(conn, "旧情景") == "wang"
    assert scenarios.delete_scenario(conn, "旧情景", ADMIN)
    scenarios._MIGRATED.clear()  # as in a new process
    assert scenarios.list_scenarios(conn).empty
    conn.close()


def test_a_published_snapshot_finds_its_working_databases_store(tmp_path, monkeypatch):
    monkeypatch.delenv(state_store.STATE_URL_ENV_VAR, raising=False)
    monkeypatch.delenv(auth.ACCOUNTS_ENV_VAR, raising=False)
    published = tmp_path / "published"
    published.mkdir()
    snapshot = published / "district-v000007.duckdb"
    duckdb.connect(str(tmp_path / "district.duckdb")).close()
    db.connect(snapshot).close()
    conn = duckdb.connect(str(snapshot), read_only=True)
    try:
        assert Path(scenarios._state(conn).describe()) == tmp_path / "accounts.sqlite"
    finally:
        conn.close()


def test_a_failed_publish_after_the_commit_is_its_own_error(tmp_path, monkeypatch):
    """The import stands; only its publishing failed, said as PublishError (the
    page's 已导入，但发布失败), and the next import publishes it."""
    from governance import publish

    monkeypatch.delenv(state_store.STATE_URL_ENV_VAR, raising=False)
    monkeypatch.delenv(auth.ACCOUNTS_ENV_VAR, raising=False)
    path = tmp_path / "district.duckdb"
    db.connect(path).close()
    first = publish.ensure_published(path)
    real_publish = publish.publish

    def broken(conn):
        raise OSError("disk full")

    monkeypatch.setattr(publish, "publish", broken)
    with pytest.raises(publish.PublishError), publish.importing(path) as conn:
        cur = conn.cursor()
        cur.execute("begin")
        version = db.bump_data_version(cur)
        db.commit(cur)
    check = duckdb.connect(str(path), read_only=True)
    try:
        assert db.data_version(check) == version  # committed
    finally:
        check.close()
    assert publish.newest(path) == first
    monkeypatch.setattr(publish, "publish", real_publish)
    with publish.importing(path):
        pass
    assert publish.newest(path).number == first.number + 1
