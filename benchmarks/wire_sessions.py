"""Sessions that speak Streamlit's websocket protocol without a browser, for load.py.

On this 2-core machine twenty Chromium tabs use most of the CPU just drawing
their pages, so they ask the server for far fewer runs than twenty people at
their own PCs would. A wire session costs the machine almost nothing: it opens
/_stcore/stream like the page does, sends the same `rerun_script` requests a
person's clicks make (another page, a street or community type added to or
removed from the sidebar filters, keeping the other filter), reads the
server's messages until `script_finished`, and thinks 0.5–2 s (by default)
before the next. It draws nothing, so it finds no display errors: the browser
sessions are there for that. What it measures is the server's answer
(request sent → `script_finished` received) and any exception element or
error the server sends.

Behind nginx (load.py --processes) a wire session first loads the page as a
browser does (GET /), keeps the cookies the answer sets (nginx's affinity
cookie among them) and sends them with the websocket's upgrade request, so
nginx hashes it to the process that served the page, as it does a browser's.
Where nginx says which process answered (--show-upstream), both answers'
processes are kept: a websocket on another process than its page is an error.
"""

from __future__ import annotations

import asyncio
import random
import time
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

# A finished whole-app run; FINISHED_EARLY_FOR_RERUN and fragment runs are not ends.
RUN_ENDS = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
FILTER_KEYS = ("filter_streets", "filter_types")
ANSWER_TIMEOUT_S = 90
# nginx's header naming the process that answered (cluster --show-upstream).
UPSTREAM_HEADER = "X-Governance-Upstream"


@dataclass
class WireResult:
    index: int
    session_id: str = ""
    answers: list[dict] = field(default_factory=list)  # {"action", "page", "ms", "at"}
    errors: list[str] = field(default_factory=list)
    upstream: str | None = None  # the process that served the websocket, if nginx said


@dataclass
class _Run:
    """What one run sent that the next request needs."""

    pages: dict[str, str] = field(default_factory=dict)  # page name -> script hash
    widgets: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # key -> (id, options)
    exceptions: list[str] = field(default_factory=list)


class WireSession:
    def __init__(self, index: int, url: str, rng: random.Random, think: tuple[float, float],
                 cookies: dict[str, str] | None = None):
        self.result = WireResult(index)
        self.cookies = dict(cookies or {})  # a sign-in cookie, as a browser would hold
        self.url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.origin = url
        self.rng = rng
        self.think = think
        self.page_hash = ""
        self.pages: dict[str, str] = {}
        self.widget_ids: dict[str, tuple[str, list[str]]] = {}
        self.chosen: dict[str, list[str]] = {key: [] for key in FILTER_KEYS}

    def _cookie_header(self) -> dict[str, str]:
        return ({"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
                if self.cookies else {})

    def _load_page(self) -> tuple[dict[str, str], str | None]:
        """GET / as a browser would: the cookies held and those its answer sets,
        and the process that answered (when nginx says)."""
        request = urllib.request.Request(self.origin + "/", headers=self._cookie_header())
        with urllib.request.urlopen(request, timeout=ANSWER_TIMEOUT_S) as response:
            cookies = dict(self.cookies)
            for header in response.headers.get_all("Set-Cookie") or []:
                cookies.update({name: morsel.value
                                for name, morsel in SimpleCookie(header).items()})
            return cookies, response.headers.get(UPSTREAM_HEADER)

    async def run(self, deadline: float, started: float) -> WireResult:
        try:
            self.cookies, page_upstream = await asyncio.to_thread(self._load_page)
            async with websockets.connect(
                self.url, subprotocols=["streamlit"], origin=self.origin, max_size=None,
                open_timeout=ANSWER_TIMEOUT_S, additional_headers=self._cookie_header(),
            ) as ws:
                self.result.upstream = ws.response.headers.get(UPSTREAM_HEADER) or page_upstream
                if page_upstream and self.result.upstream != page_upstream:
                    self.result.errors.append(
                        f"affinity: page from {page_upstream}, websocket on "
                        f"{self.result.upstream}")
                await self._request(ws, "open", started)
                while time.monotonic() < deadline:
                    await asyncio.sleep(self.rng.uniform(*self.think))
                    if time.monotonic() >= deadline:
                        break
                    action = self._next_action()
                    await self._request(ws, action, started)
        except Exception as exc:  # noqa: BLE001 — every failure is a recorded error
            self.result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
        return self.result

    def _next_action(self) -> str:
        if self.rng.random() < 0.5 and len(self.pages) > 1:
            names = [name for name, h in self.pages.items() if h != self.page_hash]
            self.page_hash = self.pages[self.rng.choice(names)]
            return "nav"
        key = self.rng.choice(FILTER_KEYS)
        chosen = self.chosen[key]
        left = [o for o in self.widget_ids.get(key, ("", []))[1] if o not in chosen]
        if chosen and (len(chosen) >= 2 or not left or self.rng.random() < 0.5):
            chosen.remove(self.rng.choice(chosen))
        elif left:
            chosen.append(self.rng.choice(left))
        return key.removeprefix("filter_")

    def _page_name(self) -> str:
        return next((n for n, h in self.pages.items() if h == self.page_hash), self.page_hash)

    def _client_state(self) -> BackMsg:
        msg = BackMsg()
        state = msg.rerun_script
        state.page_script_hash = self.page_hash
        for key, values in self.chosen.items():
            if key in self.widget_ids:
                widget = state.widget_states.widgets.add()
                widget.id = self.widget_ids[key][0]
                widget.string_array_value.data.extend(values)
        return msg

    async def _request(self, ws, action: str, started: float) -> None:
        sent = time.monotonic()
        await ws.send(self._client_state().SerializeToString())
        run = _Run()
        while True:
            raw = await asyncio.wait_for(ws.recv(), ANSWER_TIMEOUT_S)
            if isinstance(raw, str):
                continue
            msg = ForwardMsg.FromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                self.result.session_id = msg.new_session.initialize.session_id
            elif kind == "navigation":
                run.pages = {p.page_name: p.page_script_hash for p in msg.navigation.app_pages}
                self.page_hash = msg.navigation.page_script_hash or self.page_hash
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "exception":
                    run.exceptions.append(
                        f"{element.exception.type}: {element.exception.message}"[:200])
                elif element.WhichOneof("type") == "multiselect":
                    widget = element.multiselect
                    for key in FILTER_KEYS:
                        if widget.id.endswith(key):
                            run.widgets[key] = (widget.id, list(widget.options))
            elif kind == "script_finished" and msg.script_finished in RUN_ENDS:
                break
        now = time.monotonic()
        self.pages = run.pages or self.pages
        self.widget_ids.update(run.widgets)
        for exception in run.exceptions:
            self.result.errors.append(f"{action} on {self._page_name()}: {exception}")
        self.result.answers.append({
            "action": action, "page": self._page_name(), "ms": round((now - sent) * 1000),
            "at": round(now - started, 2),
        })
