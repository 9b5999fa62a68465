"""A sign-in that survives a reload: the ticket the page hands to the browser,
the web route that turns it into an HttpOnly cookie, and the cookie bringing
the sign-in back in a new session until sign-out, expiry or an account change.
(The same in a real browser: tests/browser/test_access.py.)"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3

import pytest
from starlette.requests import Request
from streamlit.testing.v1 import AppTest

from governance import auth
from pages import _session, _session_cookie
from tests.app.conftest import TIMEOUT_S
from tests.conftest import PROJECT_DIR

PASSWORD = "correct-horse-battery"
_TICKET = re.compile(r'"' + _session_cookie.TICKET_HEADER + r'": "([^"]+)"')


@pytest.fixture
def accounts(app_db):
    store = auth.Accounts(auth.accounts_path(app_db))
    store.add_user("admin", PASSWORD, "admin")
    store.add_user("leader", PASSWORD, "leader")
    return store


@pytest.fixture
def browser_cookie(monkeypatch):
    """What the browser sends when a session connects (AppTest cannot send one)."""
    jar: dict[str, str | None] = {"value": None}
    monkeypatch.setattr(_session, "_sign_in_cookie", lambda: jar["value"])
    return jar


def _app() -> AppTest:
    at = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, at.exception
    return at


def _sign_in(username: str = "leader") -> AppTest:
    at = _app()
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def _reload() -> AppTest:
    """A new Streamlit session in the same browser (AppTest reuses one session id)."""
    _session._SIGNED_IN.clear()
    return _app()


def _signed_in(at: AppTest) -> bool:
    return any(c.value.startswith("已登录：") for c in at.sidebar.caption)


def _scripts(at: AppTest) -> list[str]:
    return [h.value for h in at.html if _session_cookie.PATH in h.value]


def _ticket(at: AppTest) -> str:
    (script,) = _scripts(at)
    assert '"method": "POST"' in script
    return _TICKET.search(script).group(1)


def test_without_a_cookie_a_reload_asks_for_the_password(accounts, browser_cookie):
    at = _sign_in()
    assert _signed_in(at)
    assert _reload().text_input(key="signin_username") is not None


def test_the_cookie_brings_the_sign_in_back_until_sign_out(accounts, browser_cookie):
    at = _sign_in()
    cookie, max_age = accounts.redeem_ticket(_ticket(at))  # what the route does
    assert max_age > 7 * 3600
    at.run()
    assert _signed_in(at) and _scripts(at) == []  # the ticket is handed over once

    browser_cookie["value"] = cookie
    again = _reload()
    assert _signed_in(again) and "leader" in again.sidebar.caption[0].value
    assert again.metric  # the overview, not the form
    assert accounts.audit_log(action="session_resume").iloc[0]["username"] == "leader"

    again.button(key="sign_out").click().run()
    assert again.text_input(key="signin_username") is not None
    (script,) = _scripts(again)
    assert '"method": "DELETE"' in script  # the browser is told to drop the cookie
    # Even if it kept it, the session is over on the server.
    after = _reload()
    assert after.text_input(key="signin_username") is not None and not after.metric
    assert accounts.audit_log(action="sign_out").iloc[0]["username"] == "leader"


def test_a_changed_account_is_signed_out_at_once(accounts, browser_cookie):
    at = _sign_in()
    browser_cookie["value"], _ = accounts.redeem_ticket(_ticket(at))
    accounts.set_access("leader", "street", ("东关街道",))
    at.run()
    assert at.text_input(key="signin_username") is not None and not at.metric
    assert _reload().text_input(key="signin_username") is not None


def test_an_expired_session_asks_again(accounts, browser_cookie):
    at = _sign_in()
    browser_cookie["value"], _ = accounts.redeem_ticket(_ticket(at))
    with sqlite3.connect(accounts.path) as conn:
        conn.execute("update sessions set expires_at = '2000-01-01T00:00:00'")
    at.run()
    assert at.text_input(key="signin_username") is not None
    assert _reload().text_input(key="signin_username") is not None


def test_a_forged_cookie_is_only_a_sign_in_form(accounts, browser_cookie):
    browser_cookie["value"] = "forged.token"
    at = _reload()
    assert at.text_input(key="signin_username") is not None and not at.metric
    assert accounts.audit_log(action="session_resume").empty


# -- the web route (serve.py adds it to Streamlit's server) ------------------------------


def _request(method: str, headers: dict[str, str], scheme: str = "http") -> Request:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    return Request({
        "type": "http", "method": method, "path": _session_cookie.PATH, "scheme": scheme,
        "headers": [(b"host", b"127.0.0.1:8501"), *raw], "query_string": b"",
        "server": ("127.0.0.1", 8501),
    })


def _call(method: str, headers: dict[str, str], scheme: str = "http"):
    return asyncio.run(_session_cookie.session_cookie(_request(method, headers, scheme)))


def test_the_route_trades_a_ticket_for_an_httponly_cookie_once(accounts):
    session, ticket = accounts.start_session("leader")
    foreign = _call("POST", {_session_cookie.TICKET_HEADER: ticket,
                             "Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "set-cookie" not in foreign.headers
    assert _call("POST", {}).status_code == 403  # no ticket header: a plain form post

    response = _call("POST", {_session_cookie.TICKET_HEADER: ticket,
                              "Origin": "http://127.0.0.1:8501"})
    assert response.status_code == 204
    cookie = response.headers["set-cookie"]
    name, value = cookie.split(";")[0].split("=", 1)
    assert name == auth.SESSION_COOKIE
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path", "max-age", "samesite"} <= attributes
    assert "samesite=strict" in cookie.lower() and "secure" not in attributes
    assert int(re.search(r"Max-Age=(\d+)", cookie).group(1)) > 7 * 3600
    assert response.headers["cache-control"] == "no-store"
    assert accounts.resume(value)[0] == session
    # Once only.
    assert _call("POST", {_session_cookie.TICKET_HEADER: ticket}).status_code == 403

    # Behind an HTTPS proxy the cookie is Secure.
    _, ticket = accounts.start_session("leader")
    secure = _call("POST", {_session_cookie.TICKET_HEADER: ticket,
                            "X-Forwarded-Proto": "https"})
    assert "secure" in secure.headers["set-cookie"].lower()

    # DELETE ends the session and expires the cookie.
    gone = _call("DELETE", {_session_cookie.TICKET_HEADER: _session_cookie.CLEAR_VALUE,
                            "Cookie": f"{auth.SESSION_COOKIE}={value}"})
    assert gone.status_code == 204
    assert 'max-age=0' in gone.headers["set-cookie"].lower()
    assert accounts.resume(value) is None


def test_the_page_scripts_only_carry_our_constants_and_the_ticket():
    script = _session_cookie.set_cookie_script("abc-_123")
    body = script.removeprefix("<script>fetch(").removesuffix(").catch(() => {});</script>")
    path, options = json.loads("[" + body + "]")
    assert path == _session_cookie.PATH
    assert options == {"method": "POST", "credentials": "same-origin",
                       "headers": {_session_cookie.TICKET_HEADER: "abc-_123"}}
