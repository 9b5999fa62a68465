"""`python -m governance users …`: a street account needs a street; the list
says in words what each account sees."""

from __future__ import annotations

import io
import sys

import pytest

from governance import auth
from governance.cli import EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main
from governance.text import t
from tests.conftest import street_account_without_streets

PASSWORD = "correct-horse-battery"


@pytest.fixture
def db_path(tmp_path, monkeypatch):
    monkeypatch.delenv(auth.ACCOUNTS_ENV_VAR, raising=False)
    return tmp_path / "district.duckdb"


def run_cli(monkeypatch, *argv: str, stdin: str = PASSWORD + "\n") -> tuple[int, str, str]:
    handle = io.StringIO(stdin)
    monkeypatch.setattr(sys, "stdin", handle)
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    run_cli.stdin_left = handle.read()
    return code, out.getvalue(), err.getvalue()


def store_for(db_path) -> auth.Accounts:
    return auth.Accounts(auth.accounts_path(db_path))


@pytest.mark.parametrize("streets", [None, "", " , ，"])
def test_a_street_account_without_streets_is_refused_before_anything(db_path, monkeypatch,
                                                                      streets):
    argv = ["users", "add", "--db", str(db_path), "--username", "jie", "--role", "street",
            "--password-stdin"]
    if streets is not None:
        argv += ["--streets", streets]
    code, out, err = run_cli(monkeypatch, *argv)
    assert code == EXIT_USAGE
    assert err.strip() == t("cli.users.street_needs_streets", username="jie")
    assert "--streets" in err and "看不到任何数据" in err and "全部" not in out + err
    assert out == ""
    assert run_cli.stdin_left == PASSWORD + "\n"  # the password was not even read
    assert not store_for(db_path).path.exists() or store_for(db_path).get_user("jie") is None


def test_a_street_account_with_streets_says_them(db_path, monkeypatch):
    code, out, err = run_cli(
        monkeypatch, "users", "add", "--db", str(db_path), "--username", "jie", "--role",
        "street", "--streets", "东关街道，古城街道", "--password-stdin")
    assert code == EXIT_OK, err
    assert out.strip() == t("cli.users.added", username="jie", role=t("auth.role.street"),
                            streets="东关街道、古城街道")
    assert store_for(db_path).get_user("jie").streets == ("东关街道", "古城街道")


def test_admin_and_leader_see_everything_in_words(db_path, monkeypatch):
    code, out, _ = run_cli(monkeypatch, "users", "add", "--db", str(db_path), "--username",
                           "admin", "--role", "admin", "--password-stdin")
    assert code == EXIT_OK
    assert out.strip() == t("cli.users.added", username="admin", role=t("auth.role.admin"),
                            streets=t("filter.all"))


def test_taking_every_street_from_a_street_account_is_refused(db_path, monkeypatch):
    store_for(db_path).add_user("jie", PASSWORD, "street", ("东关街道",))
    code, out, err = run_cli(monkeypatch, "users", "access", "--db", str(db_path),
                             "--username", "jie", "--role", "street")
    assert code == EXIT_USAGE and "看不到任何数据" in err
    assert store_for(db_path).get_user("jie").streets == ("东关街道",)
    # Turning it into a leader needs no street.
    code, _, err = run_cli(monkeypatch, "users", "access", "--db", str(db_path),
                           "--username", "jie", "--role", "leader")
    assert code == EXIT_OK, err
    assert store_for(db_path).get_user("jie").role == "leader"
    # A refusal of another kind keeps its own exit code.
    code, _, err = run_cli(monkeypatch, "users", "access", "--db", str(db_path),
                           "--username", "ghost", "--role", "leader")
    assert code == EXIT_REFUSED and "ghost" in err


def test_the_list_never_says_all_for_a_street_account_without_streets(db_path, monkeypatch):
    store = store_for(db_path)
    store.add_user("admin", PASSWORD, "admin")
    store.add_user("jie", PASSWORD, "street", ("东关街道",))
    # Made before the CLI refused it (or through the accounts file directly).
    street_account_without_streets(store, "nobody", PASSWORD)
    code, out, _ = run_cli(monkeypatch, "users", "list", "--db", str(db_path))
    assert code == EXIT_OK
    lines = {line.split(",")[0]: line.split(",") for line in out.strip().splitlines()[1:]}
    assert lines["nobody"][3] == "无（看不到任何数据）"
    assert lines["jie"][3] == "东关街道"
    assert lines["admin"][3] == t("filter.all")
    assert "hash" not in out
