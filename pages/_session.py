"""Who is signed in: accounts, sign-in and sign-out, the sign-in cookie
(pages/_session_cookie.py), the sign-in form and the audit log."""

from __future__ import annotations

import threading

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from governance import (
    auth,
)
from governance.text import escape_markdown, t
from pages import _session_cookie
from pages._context import PageContext, db_path_from_argv

# Who is signed in, per Streamlit session: the id of a sign-in session of
# accounts.sqlite (governance/auth.py), checked on every run, so a sign-out,
# an expiry (auth.SESSION_MAX_AGE) or a change to the account ends it at once.
# A reload starts a new Streamlit session: the browser's HttpOnly cookie
# (pages/_session_cookie.py) names the same sign-in session.
_SIGNED_IN: dict[str, str] = {}


_SIGNED_IN_LOCK = threading.Lock()


# Session-state keys: a ticket to trade for the cookie, a cookie to expire.
_COOKIE_TICKET = "_sign_in_cookie_ticket"


_COOKIE_CLEAR = "_sign_in_cookie_clear"


def accounts() -> auth.Accounts:
    return auth.Accounts(auth.accounts_path(db_path_from_argv()))


def session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "bare"


def through_proxy() -> bool:
    """Whether this session came through a reverse proxy (it says whom for):
    a loopback address then no longer means only this machine's user."""
    try:
        headers = st.context.headers
        found = [headers.get(name) for name in ("X-Forwarded-For", "Forwarded", "X-Real-IP")]
    except Exception:  # noqa: BLE001 — no browser (bare run): no proxy
        return False
    return any(isinstance(value, str) and value for value in found)


def local_mode() -> bool:
    """No account configured: one user on this machine only."""
    return not accounts().any_accounts()


def _sign_in_cookie() -> str | None:
    """The sign-in cookie the browser sent when this session connected."""
    try:
        value = st.context.cookies.get(auth.SESSION_COOKIE)
    except Exception:  # noqa: BLE001 — no browser (bare run): no cookie
        return None
    return value if isinstance(value, str) else None  # AppTest has a stand-in


def current_user() -> auth.User | None:
    """The signed-in account (fresh from the accounts file, so a role change or
    a removal applies at once), the local user in local mode, or None.

    A session without a sign-in of its own takes the browser's cookie: a
    reload within auth.SESSION_MAX_AGE of signing in keeps the sign-in."""
    store = accounts()
    if not store.any_accounts():
        return auth.local_user()
    key = session_id()
    with _SIGNED_IN_LOCK:
        session = _SIGNED_IN.get(key)
    if session is not None:
        user = store.session_user(session)
        if user is not None:
            return user
        with _SIGNED_IN_LOCK:  # signed out elsewhere, expired, or the account changed
            _SIGNED_IN.pop(key, None)
    cookie = _sign_in_cookie()
    resumed = store.resume(cookie) if cookie else None
    if resumed is not None:
        session, user = resumed
        with _SIGNED_IN_LOCK:
            _SIGNED_IN[key] = session
        store.audit(user.username, "session_resume")
        return user
    if oidc_configured() and st.user.is_logged_in:
        # The identity provider says who; the local account says what they may see.
        return store.get_user(auth.oidc_username(dict(st.user)))
    return None


def oidc_configured() -> bool:
    """Whether .streamlit/secrets.toml has an [auth] section for st.login."""
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 — no secrets file at all: not configured
        return False


def allowed(user: auth.User, need: str) -> bool:
    return {
        "import": user.can_import,
        "scenarios": user.can_edit_scenarios,
        "admin": user.is_admin,
    }[need]


def sign_in(username: str, password: str) -> auth.User | None:
    """Check the password (auth.Accounts.verify) and start a sign-in session;
    the next run hands the browser its cookie (_deliver_cookie)."""
    store = accounts()
    user = store.verify(username, password)
    if user is not None:
        session, ticket = store.start_session(user.username)
        with _SIGNED_IN_LOCK:
            _SIGNED_IN[session_id()] = session
        st.session_state[_COOKIE_TICKET] = ticket
    return user


def sign_out() -> None:
    """End the sign-in session on the server (every tab and reload of this
    browser with it), then have the browser drop its cookie."""
    with _SIGNED_IN_LOCK:
        session = _SIGNED_IN.pop(session_id(), None)
    if session is not None:
        store = accounts()
        username = store.end_session(session)
        if username:
            store.audit(username, "sign_out")
        st.session_state.pop(_COOKIE_TICKET, None)
        st.session_state[_COOKIE_CLEAR] = True
    elif oidc_configured() and st.user.is_logged_in:
        accounts().audit(auth.oidc_username(dict(st.user)), "sign_out")
        st.logout()


def _deliver_cookie() -> None:
    """The page script that sets (after a sign-in) or expires (after a
    sign-out) the browser's HttpOnly cookie through serve.py's route."""
    ticket = st.session_state.pop(_COOKIE_TICKET, None)
    if ticket:
        st.html(_session_cookie.set_cookie_script(ticket), unsafe_allow_javascript=True)
    if st.session_state.pop(_COOKIE_CLEAR, None):
        st.html(_session_cookie.clear_cookie_script(), unsafe_allow_javascript=True)


def audit(ctx: PageContext, action: str, detail: str = "", outcome: str = "ok") -> None:
    """One audit line for the signed-in account (local mode: the local user)."""
    accounts().audit(ctx.user.username, action, detail, outcome)


def sign_in_form() -> None:
    st.title(t("app.title"))
    st.caption(t("auth.sign_in.caption"))
    _deliver_cookie()
    with st.form("sign_in_form"):
        username = st.text_input(t("auth.username"), key="signin_username")
        password = st.text_input(t("auth.password"), type="password", key="signin_password")
        submitted = st.form_submit_button(t("auth.sign_in"), type="primary")
    if submitted:
        if sign_in(username, password) is not None:
            st.rerun()
        st.error(t("auth.sign_in.failed"))
    if oidc_configured():
        if st.user.is_logged_in:
            # Signed in at the identity provider, but no local account of that name.
            st.error(t("auth.oidc.no_account"))
            st.button(t("auth.sign_out"), on_click=st.logout, key="oidc_sign_out")
        else:
            st.button(t("auth.oidc.sign_in"), on_click=st.login, key="oidc_sign_in")


def user_box(user: auth.User) -> None:
    with st.sidebar:
        if local_mode():
            st.caption(t("auth.local_mode", address=st.get_option("server.address") or "127.0.0.1"))
            return
        _deliver_cookie()
        st.caption(t("auth.signed_in_as", name=escape_markdown(user.display_name),
                     role=user.role_label,
                     scope=escape_markdown(auth.scope_text(user.role, user.streets))))
        if st.button(t("auth.sign_out"), key="sign_out"):
            sign_out()
            st.rerun()
