"""serve.py with two failures injected, for tests/browser/test_failure_messages.py.

    python tests/browser/failing_serve.py [serve.py arguments]

- the facilities what-if reads coordinates with `facility_view.proposals_from_text`,
  inside a fragment: typing FAIL there fails the fragment's own rerun;
- every download is audited by the button's on_click callback: the audit of
  an export fails, so clicking a download fails a widget callback.

Both run where app.py's try/except cannot reach (Streamlit runs a fragment
rerun and a callback itself); the production code is unchanged.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_DIR))

from governance import auth, facility_view  # noqa: E402

_proposals_from_text = facility_view.proposals_from_text
_audit = auth.Accounts.audit


def proposals_from_text(text, *args, **kwargs):
    if text and "FAIL" in text:
        raise RuntimeError("injected failure in a fragment rerun")
    return _proposals_from_text(text, *args, **kwargs)


def audit(self, username, action, *args, **kwargs):
    if action == "export":
        raise RuntimeError("injected failure in a widget callback")
    return _audit(self, username, action, *args, **kwargs)


facility_view.proposals_from_text = proposals_from_text
auth.Accounts.audit = audit

if __name__ == "__main__":
    runpy.run_path(str(PROJECT_DIR / "serve.py"), run_name="__main__")
