"""Local accounts, roles, street scope and the audit log.

Accounts live in a small SQLite file beside the database (`accounts.sqlite`,
outside git, mode 0600), not in DuckDB: DuckDB admits one writing process, and
accounts must be manageable from the CLI while the app runs. Passwords are
hashed with Argon2id (argon2-cffi, the reference binding); nothing here is
home-made cryptography.

Roles: admin (users, settings, all data), leader (view all, scenarios), street
(view and import only its own streets). Scope is decided here, on the server,
from the signed-in account: a street account with no streets sees nothing.
With no account configured the app runs in single-user local mode as local_user().
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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

_HASHER = PasswordHasher()
# Verified against when the username does not exist, so both paths cost the same.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")

_SCHEMA = (
    "create table if not exists users ("
    " username text primary key, display_name text not null,"
    " role text not null check (role in ('admin', 'leader', 'street')),"
    " streets text not null default '[]', password_hash text not null,"
    " active integer not null default 1, created_at text not null, updated_at text not null)",
    "create table if not exists audit_log ("
    " id integer primary key autoincrement, at text not null, username text not null,"
    " action text not null, detail text not null, outcome text not null)",
    "create index if not exists audit_log_at on audit_log (at)",
)


class AccountError(ValueError):
    """A refused account change, with a Chinese message for the user."""


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


def _now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


class Accounts:
    """The accounts file. A connection per call: safe from any thread or process."""

    _created: set[Path] = set()
    _lock = threading.Lock()

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            if fresh:
                os.chmod(self.path, 0o600)
            with self._lock:
                if self.path not in self._created:
                    for statement in _SCHEMA:
                        conn.execute(statement)
                    conn.commit()
                    self._created.add(self.path)
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    # -- accounts -----------------------------------------------------------

    def any_accounts(self) -> bool:
        if not self.path.exists():
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
        streets = tuple(s.strip() for s in streets if s.strip()) if role == "street" else ()
        now = _now()
        with self._connect() as conn:
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
        _check_password(password)
        with self._connect() as conn:
            changed = conn.execute(
                "update users set password_hash = ?, updated_at = ? where username = ?",
                (_HASHER.hash(password), _now(), username),
            ).rowcount
        if not changed:
            raise AccountError(t("auth.error.no_user", username=username))

    def set_access(self, username: str, role: str, streets: tuple[str, ...] = ()) -> None:
        role = _valid_role(role)
        streets = tuple(s.strip() for s in streets if s.strip()) if role == "street" else ()
        with self._connect() as conn:
            changed = conn.execute(
                "update users set role = ?, streets = ?, updated_at = ? where username = ?",
                (role, json.dumps(list(streets), ensure_ascii=False), _now(), username),
            ).rowcount
        if not changed:
            raise AccountError(t("auth.error.no_user", username=username))

    def remove_user(self, username: str) -> None:
        with self._connect() as conn:
            row = conn.execute("select role from users where username = ? and active = 1",
                               (username,)).fetchone()
            if row is None:
                raise AccountError(t("auth.error.no_user", username=username))
            admins = conn.execute(
                "select count(*) from users where role = 'admin' and active = 1").fetchone()[0]
            if row[0] == "admin" and admins <= 1:
                raise AccountError(t("auth.error.last_admin"))
            conn.execute("delete from users where username = ?", (username,))

    def list_users(self) -> pd.DataFrame:
        """username, display_name, role, streets (comma-joined), created_at,
        updated_at — never the hashes."""
        columns = ["username", "display_name", "role", "streets", "created_at", "updated_at"]
        if not self.path.exists():
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
        out by recent failures); every attempt is written to the audit log."""
        name = (username or "").strip()
        if self.recent_failures(name) >= MAX_FAILURES:
            self.audit(name or "?", "sign_in", t("auth.audit.locked"), "refused")
            return None
        with self._connect() as conn:
            row = conn.execute(
                "select password_hash from users where username = ? and active = 1",
                (name,)).fetchone()
        stored = row[0] if row else _DUMMY_HASH
        try:
            _HASHER.verify(stored, password or "")
            matched = row is not None
        except (VerificationError, InvalidHashError):
            matched = False
        if not matched:
            self.audit(name or "?", "sign_in", t("auth.audit.bad_password"), "refused")
            return None
        if _HASHER.check_needs_rehash(stored):
            self.set_password(name, password)
        self.audit(name, "sign_in", "", "ok")
        return self.get_user(name)

    def recent_failures(self, username: str) -> int:
        since = (datetime.now(UTC).replace(tzinfo=None) - FAILURE_WINDOW).isoformat(
            timespec="seconds")
        with self._connect() as conn:
            failures = conn.execute(
                "select count(*) from audit_log where username = ? and action = 'sign_in'"
                " and outcome = 'refused' and at >= ? and id > coalesce((select max(id)"
                " from audit_log where username = ? and action = 'sign_in'"
                " and outcome = 'ok'), 0)",
                (username, since, username)).fetchone()[0]
        return int(failures)

    # -- audit --------------------------------------------------------------

    def audit(self, username: str, action: str, detail: str = "", outcome: str = "ok") -> None:
        with self._connect() as conn:
            conn.execute(
                "insert into audit_log (at, username, action, detail, outcome)"
                " values (?, ?, ?, ?, ?)", (_now(), username, action, detail, outcome))

    def audit_log(self, limit: int = 500, action: str | None = None) -> pd.DataFrame:
        """Newest first: at, username, action, detail, outcome."""
        columns = ["at", "username", "action", "detail", "outcome"]
        if not self.path.exists():
            return pd.DataFrame(columns=columns)
        with self._connect() as conn:
            rows = conn.execute(
                "select at, username, action, detail, outcome from audit_log"
                " where (? is null or action = ?) order by id desc limit ?",
                (action, action, int(limit))).fetchall()
        return pd.DataFrame(rows, columns=columns)


def users_for_display(users: pd.DataFrame) -> pd.DataFrame:
    """The account list as an administrator reads it: roles in words, local times."""
    return users.assign(
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
