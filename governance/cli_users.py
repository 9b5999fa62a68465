"""`python -m governance users …` and `audit`: local accounts from the command
line (works while the app runs: accounts are in their own SQLite file)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from governance import auth
from governance.text import t

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


class StreetsMissing(auth.AccountError):
    """A street account without any street: it would see nothing (exit 2)."""


def _accounts(args: argparse.Namespace) -> auth.Accounts:
    return auth.Accounts(auth.accounts_path(args.db))


def _password(args: argparse.Namespace) -> str:
    """From stdin with --password-stdin (scripts), else asked twice without echo."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(t("cli.users.password_prompt"))
    if getpass.getpass(t("cli.users.password_again")) != first:
        raise auth.AccountError(t("cli.users.password_mismatch"))
    return first


def _streets(text: str | None) -> tuple[str, ...]:
    return tuple(s.strip() for s in (text or "").replace("，", ",").split(",") if s.strip())


def _needs_streets(args: argparse.Namespace) -> tuple[str, ...]:
    """--streets, which a street account must have: refused before anything
    is written (or a password asked) when it names none."""
    streets = _streets(args.streets)
    if args.role == "street" and not streets:
        raise StreetsMissing(t("cli.users.street_needs_streets", username=args.username))
    return streets


def _run(action, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        message = action(args)
    except StreetsMissing as problem:
        print(str(problem), file=err)
        return EXIT_USAGE
    except auth.AccountError as problem:
        print(str(problem), file=err)
        return EXIT_REFUSED
    print(message, file=out)
    return EXIT_OK


def _add(args: argparse.Namespace) -> str:
    streets = _needs_streets(args)
    store = _accounts(args)
    user = store.add_user(args.username, _password(args), args.role, streets, args.name)
    store.audit("cli", "user_add", f"{user.username} {user.role} {','.join(user.streets)}")
    return t("cli.users.added", username=user.username, role=user.role_label,
             streets=auth.scope_text(user.role, user.streets))


def _passwd(args: argparse.Namespace) -> str:
    store = _accounts(args)
    store.set_password(args.username, _password(args))
    store.audit("cli", "user_password", args.username)
    return t("cli.users.password_set", username=args.username)


def _access(args: argparse.Namespace) -> str:
    streets = _needs_streets(args)
    store = _accounts(args)
    store.set_access(args.username, args.role, streets)
    store.audit("cli", "user_access", f"{args.username} {args.role} {args.streets or ''}")
    return t("cli.users.access_set", username=args.username)


def _remove(args: argparse.Namespace) -> str:
    store = _accounts(args)
    store.remove_user(args.username)
    store.audit("cli", "user_remove", args.username)
    return t("cli.users.removed", username=args.username)


def _list(args: argparse.Namespace) -> str:
    users = _accounts(args).list_users()
    if users.empty:
        return t("cli.users.none")
    return auth.with_scope_text(users).to_csv(index=False).rstrip("\n")


def _audit(args: argparse.Namespace) -> str:
    log = _accounts(args).audit_log(args.limit)
    return log.to_csv(index=False).rstrip("\n")


def add_commands(commands) -> None:
    """Register `users` (add, passwd, access, remove, list) and `audit`."""
    users = commands.add_parser("users", help=t("cli.help.users"))
    actions = users.add_subparsers(dest="users_command", required=True)
    for name, handler, needs_password, needs_role in (
        ("add", _add, True, True), ("passwd", _passwd, True, False),
        ("access", _access, False, True), ("remove", _remove, False, False),
        ("list", _list, False, False),
    ):
        cmd = actions.add_parser(name, help=t(f"cli.help.users.{name}"))
        cmd.add_argument("--db", required=True, help=t("cli.help.db"))
        if name != "list":
            cmd.add_argument("--username", required=True)
        if needs_role:
            cmd.add_argument("--role", required=True, choices=auth.ROLES)
            cmd.add_argument("--streets", help=t("cli.help.users.streets"))
        if name == "add":
            cmd.add_argument("--name", help=t("cli.help.users.name"))
        if needs_password:
            cmd.add_argument("--password-stdin", action="store_true",
                             help=t("cli.help.users.password_stdin"))
        cmd.set_defaults(handler=lambda a, o, e, h=handler: _run(h, a, o, e))
    cmd = commands.add_parser("audit", help=t("cli.help.audit"))
    cmd.add_argument("--db", required=True, help=t("cli.help.db"))
    cmd.add_argument("--limit", type=int, default=100)
    cmd.set_defaults(handler=lambda a, o, e: _run(_audit, a, o, e))
