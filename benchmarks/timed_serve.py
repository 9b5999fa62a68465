"""serve.py with every script run timed inside the server, for benchmarks/load.py.

    GOVERNANCE_RUN_TIMINGS=runs.jsonl python benchmarks/timed_serve.py [serve.py arguments]

Each whole-app run the server finishes is one JSON line: the session, the page,
and how long it took from the rerun request reaching the session (the BackMsg,
on the server's event loop) to the session queueing `script_finished` for the
browser. A request that interrupts a run still in progress does not restart
the clock: the person has been waiting since their first request. This is the
server's own time, whatever the browsers on the same machine are doing; the
first run of each session (opening the page) is marked `first`. It leaves out
sending the run's messages to the browser (wire_sessions.py's figure has it)
and fragment reruns (no page action of the benchmark starts one).

Each line names the process (`pid`): the app processes of a cluster
(load.py --processes) append to one file, one short line per write, and
their clocks agree (CLOCK_MONOTONIC is the machine's, not the process's).
"""

from __future__ import annotations

import json
import os
import runpy
import sys
import threading
import time
from pathlib import Path

from streamlit.runtime.app_session import AppSession

# Run as a script, so this folder is on the path; the same notion of a finished run.
from wire_sessions import RUN_ENDS

OUT = Path(os.environ["GOVERNANCE_RUN_TIMINGS"])

_lock = threading.Lock()
_waiting: dict[str, float] = {}  # session id -> when its pending request arrived
_runs: dict[str, int] = {}  # session id -> runs finished so far

_handle_backmsg = AppSession.handle_backmsg
_enqueue_forward_msg = AppSession._enqueue_forward_msg


def handle_backmsg(self, msg):
    # A fragment's rerun ends with FINISHED_FRAGMENT_RUN_SUCCESSFULLY, not a run end.
    if msg.WhichOneof("type") == "rerun_script" and not msg.rerun_script.fragment_id:
        with _lock:
            _waiting.setdefault(self.id, time.monotonic())
    return _handle_backmsg(self, msg)


def enqueue_forward_msg(self, msg):
    if msg.WhichOneof("type") == "script_finished" and msg.script_finished in RUN_ENDS:
        now = time.monotonic()
        with _lock:
            requested = _waiting.pop(self.id, None)
            count = _runs.get(self.id, 0)
            _runs[self.id] = count + 1
            if requested is not None:
                record = {
                    "pid": os.getpid(),
                    "session": self.id, "page": self.page_script_hash, "first": count == 0,
                    "requested": round(requested, 3), "at": round(now, 3),
                    "ms": round((now - requested) * 1000, 1),
                }
                with OUT.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record) + "\n")
    return _enqueue_forward_msg(self, msg)


AppSession.handle_backmsg = handle_backmsg
AppSession._enqueue_forward_msg = enqueue_forward_msg

if __name__ == "__main__":
    # serve.py as if run itself: the project folder first on the path, this
    # folder off it (its pages.py, benchmarks/pages.py, would stand in for the
    # app's pages package).
    root = Path(__file__).resolve().parent.parent
    here = Path(__file__).resolve().parent
    sys.path[:] = [str(root)] + [p for p in sys.path if Path(p or ".").resolve() != here]
    runpy.run_path(str(root / "serve.py"), run_name="__main__")
