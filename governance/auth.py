"""Local accounts, roles, street scope and the audit log.

Accounts live in the state store (governance/state_store.py): by default a
small SQLite file beside the database (`accounts.sqlite`, outside git, mode
0600), or PostgreSQL when $GOVERNANCE_STATE_URL is set; never in DuckDB:
DuckDB admits one writing process, and accounts must be manageable from the
CLI while the app runs, and shared by every app process in cluster mode. Passwords are
hashed with Argon2id (argon2-cffi, the reference binding); nothing here is
home-made cryptography.

Roles: admin (users, settings, all data), leader (view all, scenarios), street
(view and import only its own streets). Scope is decided here, on the server,
from the signed-in account: a street account with no streets sees nothing.
With no account configured the app runs in single-user local mode as local_user().

Every refused sign-in costs one Argon2 verification, whatever the reason
(unknown name, locked account, wrong password), so the answer's timing does
not tell an attacker which it was.

Sign-in sessions (so a reload keeps the sign-in) are rows of the `sessions`
table: created at sign-in, expiring SESSION_MAX_AGE later, revoked at sign-out
and whenever the account's password, role or streets change or it is removed.
The browser holds only an HttpOnly cookie `<token>.<HMAC of the token>`; the
table keeps the token's SHA-256, never the token. The cookie is handed over
through a one-time ticket (TICKET_MAX_AGE) that the web server exchanges for
it (serve.py, pages/_session_cookie.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from governance import state_store
from governance.clock import local_time
from governance.text import t

Role = Literal["admin", "leader", "street"]
ROLES: tuple[Role, ...] = ("admin", "leader", "street")
ACCOUNTS_ENV_VAR = "GOVERNANCE_ACCOUNTS"
PASSWORD_MIN_LENGTH = 10
USERNAME_MAX = 64
# Sign-in attempts refused for a username after this many failures in the window.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)

# A sign-in survives a reload for at most this long (then the password again).
SESSION_MAX_AGE = timedelta(hours=8)
# The one-time ticket that turns a sign-in into the browser's cookie.
TICKET_MAX_AGE = timedelta(seconds=60)
SESSION_COOKIE = "governance_session"

_HASHER = PasswordHasher()
# Verified against when there is no usable stored hash (unknown name), so every
# refusal costs the same one Argon2 verification.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")

class AccountError(ValueError):
    """A refused account change, with a Chinese message for the user."""


def _valid_streets(role: str, streets: tuple[str, ...], username: str) -> tuple[str, ...]:
    """A street account's streets, at least one (an account with none would
    see nothing and could do nothing); other roles keep none."""
    if role != "street":
        return ()
    cleaned = tuple(s.strip() for s in streets if s.strip())
    if not cleaned:
        raise AccountError(t("auth.error.street_needs_streets", username=username))
    return cleaned


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: Role
    streets: tuple[str, ...] = ()

    @property
    def scope(self) -> tuple[str, ...] | None:
        """None (every street) for admin and leader; the account's streets otherwise."""
        return None if self.role in ("admin", "leader") else tuple(self.streets)

    @property
    def can_import(self) -> bool:
        return self.role in ("admin", "street")

    @property
    def can_edit_scenarios(self) -> bool:
        return self.role in ("admin", "leader")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def record_name(self) -> str:
        """How imports and scenarios record who did them: the account name
        (unique), or the local user's display name in local mode."""
        return self.display_name if self.username == LOCAL_USERNAME else self.username

    @property
    def role_label(self) -> str:
        return t(f"auth.role.{self.role}")


LOCAL_USERNAME = "local"


def local_user() -> User:
    """Who everyone is in single-user local mode (no accounts configured)."""
    return User(LOCAL_USERNAME, t("auth.local_user"), "admin")


def accounts_path(db_path: str | Path) -> Path:
    """$GOVERNANCE_ACCOUNTS, or accounts.sqlite beside the database file."""
    env = os.environ.get(ACCOUNTS_ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(db_path).expanduser().resolve().parent / "accounts.sqlite"


def _now(delta: timedelta = timedelta(0)) -> str:
    return (datetime.now(UTC).replace(tzinfo=None) + delta).isoformat(timespec="seconds")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _password_matches(stored: str, password: str) -> bool:
    """One Argon2 verification (the only one a sign-in attempt makes)."""
    try:
        return _HASHER.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        return False


def _revoke_sessions(conn, username: str) -> None:
    conn.execute(
        "update sessions set revoked_at = ?, ticket_hash = null"
        " where username = ? and revoked_at is null", (_now(), username))


class Accounts:
    """Accounts, sign-in sessions and the audit log in the state store. A
    connection (or pooled connection) per call: safe from any thread or process.

    `Accounts(path)` is the SQLite file at `path`, unless $GOVERNANCE_STATE_URL
    names a PostgreSQL database (state_store.open_store); a StateStore may be
    given instead of a path."""

    def __init__(self, path: str | Path | state_store.StateStore):
        if isinstance(path, state_store.StateStore):
            self.store = path
        else:
            self.store = state_store.open_store(path)
        self.path = getattr(self.store, "path", None)

    def _connect(self):
        return self.store.connect()

    # -- accounts -----------------------------------------------------------

    def any_accounts(self) -> bool:
        if not self.store.exists():
            return False
        with self._connect() as conn:
            return conn.execute("select count(*) from users where active = 1").fetchone()[0] > 0

    def add_user(
        self, username: str, password: str, role: str, streets: tuple[str, ...] = (),
        display_name: str | None = None,
    ) -> User:
        name = _valid_username(username)
        role = _valid_role(role)
        _check_password(password)
        streets = _valid_streets(role, streets, username)
        now = _now()
        with self.store.write() as conn:
            if conn.execute("select 1 from users where username = ?", (name,)).fetchone():
                raise AccountError(t("auth.error.exists", username=name))
            conn.execute(
                "insert into users (username, display_name, role, streets, password_hash,"
                " active, created_at, updated_at) values (?, ?, ?, ?, ?, 1, ?, ?)",
                (name, display_name or name, role, json.dumps(list(streets), ensure_ascii=False),
                 _HASHER.hash(password), now, now),
            )
        return User(name, display_name or name, role, streets)

    def set_password(self, username: str, password: str) -> None:
        """A new password; every sign-in session of the account ends."""
        _check_password(password)
        self._store_hash(username, _HASHER.hash(password), revoke=True)

    def _store_hash(self, username: str, password_hash: str, *, revoke: bool) -> None:
        with self._connect() as conn:
            changed = conn.execute(
                "update users set password_hash = ?, updated_at = ? where username = ?",
                (password_hash, _now(), username),
            ).rowcount
            if changed and revoke:
                _revoke_sessions(conn, username)
        if not changed:
            raise AccountError(t("auth.error.no_user", username=username))

    def set_access(self, username: str, role: str, streets: tuple[str, ...] = ()) -> None:
        """A new role and streets; every sign-in session of the account ends."""
        role = _valid_role(role)
        streets = _valid_streets(role, streets, username)
        with self._connect() as conn:
            changed = conn.execute(
                "update users set role = ?, streets = ?, updated_at = ? where username = ?",
                (role, json.dumps(list(streets), ensure_ascii=False), _now(), username),
            ).rowcount
            if changed:
                _revoke_sessions(conn, username)
        if not changed:
            raise AccountError(t("auth.error.no_user", username=username))

    def remove_user(self, username: str) -> None:
        with self.store.write() as conn:
            row = conn.execute("select role from users where username = ? and active = 1",
                               (username,)).fetchone()
            if row is None:
                raise AccountError(t("auth.error.no_user", username=username))
            admins = conn.execute(
                "select count(*) from users where role = 'admin' and active = 1").fetchone()[0]
            if row[0] == "admin" and admins <= 1:
                raise AccountError(t("auth.error.last_admin"))
            conn.execute("delete from users where username = ?", (username,))
            _revoke_sessions(conn, username)

    def list_users(self) -> pd.DataFrame:
        """username, display_name, role, streets (comma-joined), created_at,
        updated_at — never the hashes."""
        columns = ["username", "display_name", "role", "streets", "created_at", "updated_at"]
        if not self.store.exists():
            return pd.DataFrame(columns=columns)
        with self._connect() as conn:
            rows = conn.execute(
                "select username, display_name, role, streets, created_at, updated_at"
                " from users where active = 1 order by username").fetchall()
        frame = pd.DataFrame(rows, columns=columns)
        frame["streets"] = frame["streets"].map(lambda s: "、".join(json.loads(s)))
        return frame

    def get_user(self, username: str) -> User | None:
        with self._connect() as conn:
            row = conn.execute(
                "select username, display_name, role, streets from users"
                " where username = ? and active = 1", (username,)).fetchone()
        if row is None:
            return None
        return User(row[0], row[1], row[2], tuple(json.loads(row[3])))

    def verify(self, username: str, password: str) -> User | None:
        """The account when the password matches (and the username is not locked
        out by recent failures); every attempt is written to the audit log.

        Each path makes the same calls: the failure count, the stored hash and
        exactly one Argon2 verification (against a dummy hash for an unknown
        name), so a locked account, an unknown name and a wrong password are
        refused in the same time."""
        name = (username or "").strip()
        with self._connect() as conn:
            row = conn.execute(
                "select password_hash from users where username = ? and active = 1",
                (name,)).fetchone()
        stored = row[0] if row else _DUMMY_HASH
        matched = _password_matches(stored, password) and row is not None
        # The failures are counted and this attempt recorded in one serialised
        # write: attempts in parallel, from any process, each see the ones
        # before them, so no more than MAX_FAILURES are ever tried.
        with self.store.write() as conn:
            locked = _failures(conn, name) >= MAX_FAILURES
            if locked or not matched:
                detail = t("auth.audit.locked") if locked else t("auth.audit.bad_password")
                _record(conn, name or "?", "sign_in", detail, "refused")
                return None
            _record(conn, name, "sign_in", "", "ok")
        if _HASHER.check_needs_rehash(stored):
            self._store_hash(name, _HASHER.hash(password), revoke=False)
        return self.get_user(name)

    def recent_failures(self, username: str) -> int:
        with self._connect() as conn:
            return _failures(conn, username)

    # -- sign-in sessions -----------------------------------------------------

    def _cookie_key(self, conn) -> bytes:
        row = conn.execute("select value from settings where key = 'cookie_key'").fetchone()
        if row is None:
            conn.execute("insert into settings (key, value) values ('cookie_key', ?)"
                         " on conflict (key) do nothing", (secrets.token_hex(32),))
            row = conn.execute(
                "select value from settings where key = 'cookie_key'").fetchone()
        return bytes.fromhex(row[0])

    def _signature(self, conn, token: str) -> str:
        digest = hmac.new(self._cookie_key(conn), token.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def start_session(self, username: str) -> tuple[str, str]:
        """A new sign-in session for `username`: (session id, one-time ticket).
        The ticket is exchanged once, within TICKET_MAX_AGE, for the cookie."""
        session_id = secrets.token_hex(16)
        ticket = secrets.token_urlsafe(32)
        with self._connect() as conn:
            conn.execute("delete from sessions where expires_at < ?", (_now(),))
            conn.execute(
                "insert into sessions (id, username, created_at, expires_at, ticket_hash,"
                " ticket_expires_at) values (?, ?, ?, ?, ?, ?)",
                (session_id, username, _now(), _now(SESSION_MAX_AGE), _sha256(ticket),
                 _now(TICKET_MAX_AGE)))
        return session_id, ticket

    def redeem_ticket(self, ticket: str) -> tuple[str, int] | None:
        """The cookie value and its max age (seconds) for a valid, unused ticket
        of a live session; None otherwise. A ticket works once."""
        if not ticket or len(ticket) > 100:
            return None
        now = _now()
        token = secrets.token_urlsafe(32)
        with self._connect() as conn:
            row = conn.execute(
                "select id, expires_at from sessions where ticket_hash = ?"
                " and ticket_expires_at >= ? and revoked_at is null and expires_at > ?",
                (_sha256(ticket), now, now)).fetchone()
            if row is None:
                return None
            # Only the first of two processes redeeming the same ticket at once wins.
            redeemed = conn.execute(
                "update sessions set ticket_hash = null, ticket_expires_at = null,"
                " token_hash = ? where id = ? and ticket_hash = ?",
                (_sha256(token), row[0], _sha256(ticket))).rowcount
            if not redeemed:
                return None
            value = token + "." + self._signature(conn, token)
        left = datetime.fromisoformat(row[1]) - datetime.fromisoformat(now)
        return value, max(int(left.total_seconds()), 0)

    def _session_by_cookie(self, conn, cookie: str) -> str | None:
        if not isinstance(cookie, str) or len(cookie) > 200:
            return None
        token, _, signature = cookie.partition(".")
        if not token or not signature:
            return None
        try:
            expected = self._signature(conn, token)
        except UnicodeEncodeError:
            return None
        if not hmac.compare_digest(expected, signature):
            return None
        row = conn.execute("select id from sessions where token_hash = ?",
                           (_sha256(token),)).fetchone()
        return row[0] if row else None

    def resume(self, cookie: str) -> tuple[str, User] | None:
        """(session id, account) for a browser's session cookie: its signature
        holds, the session is neither revoked nor expired, the account exists."""
        with self._connect() as conn:
            session_id = self._session_by_cookie(conn, cookie)
        if session_id is None:
            return None
        user = self.session_user(session_id)
        return None if user is None else (session_id, user)

    def session_user(self, session_id: str) -> User | None:
        """The account of a live session (not revoked, not expired), else None."""
        with self._connect() as conn:
            row = conn.execute(
                "select u.username, u.display_name, u.role, u.streets from sessions s"
                " join users u on u.username = s.username and u.active = 1"
                " where s.id = ? and s.revoked_at is null and s.expires_at > ?",
                (session_id, _now())).fetchone()
        if row is None:
            return None
        return User(row[0], row[1], row[2], tuple(json.loads(row[3])))

    def end_session(self, session_id: str) -> str | None:
        """Revoke a session; the account it belonged to (None: no live session)."""
        with self._connect() as conn:
            row = conn.execute("select username from sessions where id = ?"
                               " and revoked_at is null", (session_id,)).fetchone()
            conn.execute(
                "update sessions set revoked_at = ?, ticket_hash = null"
                " where id = ? and revoked_at is null", (_now(), session_id))
        return row[0] if row else None

    def end_session_by_cookie(self, cookie: str) -> None:
        with self._connect() as conn:
            session_id = self._session_by_cookie(conn, cookie)
        if session_id is not None:
            self.end_session(session_id)

    # -- audit --------------------------------------------------------------

    def audit(self, username: str, action: str, detail: str = "", outcome: str = "ok") -> None:
        with self._connect() as conn:
            _record(conn, username, action, detail, outcome)

    def audit_log(self, limit: int = 500, action: str | None = None) -> pd.DataFrame:
        """Newest first: at, username, action, detail, outcome."""
        columns = ["at", "username", "action", "detail", "outcome"]
        if not self.store.exists():
            return pd.DataFrame(columns=columns)
        with self._connect() as conn:
            rows = conn.execute(
                "select at, username, action, detail, outcome from audit_log"
                " where (cast(? as text) is null or action = ?) order by id desc limit ?",
                (action, action, int(limit))).fetchall()
        return pd.DataFrame(rows, columns=columns)


def _record(conn, username: str, action: str, detail: str, outcome: str) -> None:
    """One row of the audit log, in the caller's transaction."""
    conn.execute(
        "insert into audit_log (at, username, action, detail, outcome)"
        " values (?, ?, ?, ?, ?)", (_now(), username, action, detail, outcome))


def _failures(conn, username: str) -> int:
    """Refused sign-ins of `username` within FAILURE_WINDOW since its last success."""
    since = (datetime.now(UTC).replace(tzinfo=None) - FAILURE_WINDOW).isoformat(
        timespec="seconds")
    failures = conn.execute(
        "select count(*) from audit_log where username = ? and action = 'sign_in'"
        " and outcome = 'refused' and at >= ? and id > coalesce((select max(id)"
        " from audit_log where username = ? and action = 'sign_in'"
        " and outcome = 'ok'), 0)",
        (username, since, username)).fetchone()[0]
    return int(failures)


def scope_text(role: str, streets: tuple[str, ...] | list[str]) -> str:
    """What an account sees, in words: 全部 for admin and leader, its streets,
    or 无（看不到任何数据） for a street account without any."""
    if role in ("admin", "leader"):
        return t("filter.all")
    return t("text.list_separator").join(streets) if streets else t("auth.scope.none")


def with_scope_text(users: pd.DataFrame) -> pd.DataFrame:
    """list_users() with the streets column saying what each account sees
    (scope_text): never blank, never 全部 for a street account."""
    return users.assign(streets=[
        scope_text(role, [streets] if streets else [])
        for role, streets in zip(users["role"], users["streets"], strict=True)
    ])


def users_for_display(users: pd.DataFrame) -> pd.DataFrame:
    """The account list as an administrator reads it: roles and what each
    account sees in words (with_scope_text), local times."""
    return with_scope_text(users).assign(
        role=users["role"].map(lambda r: t(f"auth.role.{r}")),
        created_at=local_time(users["created_at"]),
        updated_at=local_time(users["updated_at"]),
    )


def audit_log_for_display(log: pd.DataFrame) -> pd.DataFrame:
    """The audit log as an administrator reads it: local times, actions and
    outcomes in words, the local user by name."""
    return log.assign(
        at=local_time(log["at"]),
        username=log["username"].map(
            lambda u: t("auth.local_user") if u == LOCAL_USERNAME else u),
        action=log["action"].map(lambda a: t(f"audit.action.{a}")),
        outcome=log["outcome"].map(lambda o: t(f"audit.result.{o}")),
    )


def _valid_username(username: str) -> str:
    name = (username or "").strip()
    if not name or len(name) > USERNAME_MAX or any(c.isspace() for c in name):
        raise AccountError(t("auth.error.username", limit=USERNAME_MAX))
    return name


def _valid_role(role: str) -> Role:
    if role not in ROLES:
        raise AccountError(t("auth.error.role", roles="、".join(ROLES)))
    return role  # type: ignore[return-value]


def _check_password(password: str) -> None:
    if len(password or "") < PASSWORD_MIN_LENGTH:
        raise AccountError(t("auth.error.short_password", length=PASSWORD_MIN_LENGTH))


def oidc_username(claims: dict) -> str:
    """The local account an identity-provider sign-in maps to: the
    preferred_username claim, else the e-mail address (no account: no access)."""
    return str(claims.get("preferred_username") or claims.get("email") or "").strip()


def is_loopback(address: str | None) -> bool:
    """Whether a server address only accepts connections from this machine."""
    return (address or "").strip() in ("127.0.0.1", "localhost", "::1")
