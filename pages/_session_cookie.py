"""The web server's side of a sign-in that survives a page reload.

Streamlit 1.67 can read the cookies a browser sent when its session connected
(`st.context.cookies`) but cannot set one: script output travels over the
websocket, not in an HTTP response. So a sign-in hands the browser over to
this route, which serve.py adds to Streamlit's own web server (`st.App`
routes, Streamlit 1.67's supported way to add HTTP routes):

1. The password is checked over the websocket; the server starts a session
   (governance/auth.py: a row in accounts.sqlite) and a one-time ticket
   (60 s, single use), and the page runs `fetch(POST PATH)` carrying the
   ticket in a custom header.
2. This route exchanges the ticket for the cookie: HttpOnly (no script on the
   page can read it), SameSite=Strict, Path=/, Max-Age = what is left of the
   session's 8 hours, Secure when the request came over HTTPS.
3. On a reload the browser sends the cookie with the websocket handshake;
   `pages/_session.current_user` checks its HMAC and the session row (not
   revoked, not expired, account still there) and the person is signed in.
4. Sign-out revokes the row on the server at once, then `fetch(DELETE PATH)`
   expires the cookie in the browser.

A request from another site cannot use the route: both methods need the
custom header (a cross-site page cannot send one without a CORS preflight,
which this route never grants) and an Origin, when sent, naming this host.

This module imports no page and only governance, so serve.py can load it
before any script runs; `pages/_session.py` uses its JavaScript snippets.
"""

from __future__ import annotations

import argparse
import json
import sys
from urllib.parse import urlparse

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from governance import auth, db

PATH = "/governance/session"
TICKET_HEADER = "X-Governance-Ticket"
# DELETE needs the header too (any value): a cross-site form cannot send it.
CLEAR_VALUE = "clear"


def accounts() -> auth.Accounts:
    """The accounts file of the database named on the command line (as the
    pages find it: --db after `--`, $GOVERNANCE_DB, data/governance.duckdb)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:])
    return auth.Accounts(auth.accounts_path(db.resolve_db_path(known.db)))


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not a browser's cross-site request
        return True
    return urlparse(origin).netloc == request.headers.get("host", "")


def _secure(request: Request) -> bool:
    """HTTPS to the browser: directly, or through a proxy that says so."""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip()
    return request.url.scheme == "https" or forwarded == "https"


async def session_cookie(request: Request) -> Response:
    ticket = request.headers.get(TICKET_HEADER)
    if not ticket or not _same_origin(request):
        return Response(status_code=403)
    store = accounts()
    headers = {"Cache-Control": "no-store"}
    if request.method == "POST":
        granted = await run_in_threadpool(store.redeem_ticket, ticket)
        if granted is None:
            return Response(status_code=403, headers=headers)
        value, max_age = granted
        response = Response(status_code=204, headers=headers)
        response.set_cookie(auth.SESSION_COOKIE, value, max_age=max_age, path="/",
                            secure=_secure(request), httponly=True, samesite="strict")
        return response
    cookie = request.cookies.get(auth.SESSION_COOKIE)
    if cookie:
        await run_in_threadpool(store.end_session_by_cookie, cookie)
    response = Response(status_code=204, headers=headers)
    response.delete_cookie(auth.SESSION_COOKIE, path="/", secure=_secure(request),
                           httponly=True, samesite="strict")
    return response


def routes() -> list[Route]:
    return [Route(PATH, session_cookie, methods=["POST", "DELETE"])]


def _fetch_script(method: str, header_value: str) -> str:
    options = {"method": method, "credentials": "same-origin",
               "headers": {TICKET_HEADER: header_value}}
    # json.dumps of our own constants and a URL-safe ticket: no markup can slip in.
    return ("<script>fetch(" + json.dumps(PATH) + ", " + json.dumps(options)
            + ").catch(() => {});</script>")


def set_cookie_script(ticket: str) -> str:
    """Page script that trades a sign-in's one-time ticket for the cookie."""
    return _fetch_script("POST", ticket)


def clear_cookie_script() -> str:
    """Page script that expires the cookie after a sign-out."""
    return _fetch_script("DELETE", CLEAR_VALUE)
