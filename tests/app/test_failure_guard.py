"""Every failure ends in the Chinese message with a log number, on every page:
never Streamlit's English error box ("This app has encountered an error",
with its Ask Google / Ask ChatGPT buttons)."""

from __future__ import annotations

import logging
import re

import pytest

from governance import facility_view, text
from governance.text import t
from tests.conftest import SAMPLE_DIR
from tests.hostile_files import shared_string_bomb

PAGES = ["pages/overview.py", "pages/facilities.py", "pages/funding.py", "pages/safety.py",
         "pages/scenarios.py", "pages/data.py", "pages/admin.py"]
GENERIC = re.compile(re.escape(t("error.generic", ref="@")).replace("@", "([0-9a-f]{8})"))


@pytest.fixture
def failures_expected():
    """The failures here are the point: shown as messages (tests/app/conftest.py)."""


def _refs(app) -> list[str]:
    return [m.group(1) for e in app.error if (m := GENERIC.fullmatch(e.value))]


def _fail(*args, **kwargs):
    raise RuntimeError("forced failure")


@pytest.mark.parametrize("page", PAGES)
def test_a_page_that_fails_shows_the_chinese_message_and_logs_it(
        app, page, monkeypatch, caplog, failures_expected):
    app.switch_page(page).run()
    assert not app.exception and not _refs(app)
    # Each page binds `t` afresh on every run (`from governance.text import t`);
    # the shell in pages/_shell.py keeps its own, so only the page body fails.
    monkeypatch.setattr(text, "t", _fail)
    with caplog.at_level(logging.ERROR, logger="governance.app"):
        app.run()
    assert not app.exception, app.exception
    refs = _refs(app)
    assert len(refs) == 1, [e.value for e in app.error]
    logged = [r for r in caplog.records if refs[0] in r.getMessage()]
    assert logged and "forced failure" in str(logged[0].exc_info[1])


def test_a_failing_fragment_shows_the_message_once_in_place_of_streamlits(
        app, monkeypatch, failures_expected):
    """Streamlit catches a fragment's failure itself; the run's hook shows
    ours instead of its English box, and the page says it once."""
    monkeypatch.setattr(facility_view, "proposals_from_text", _fail)
    app.switch_page("pages/facilities.py").run()
    assert not app.exception, app.exception
    assert len(_refs(app)) == 1
    assert app.title[0].value == t("facilities.title")  # the page above the fragment stands


def test_a_zip_bomb_upload_is_refused_with_its_reason(app, tmp_path):
    """The street account's file: refused from its zip directory, in Chinese,
    with the rest of the batch still judged and nothing importable."""
    bomb = shared_string_bomb(tmp_path / "bomb.xlsx", megabytes=300).read_bytes()
    good = (SAMPLE_DIR / "facilities.csv").read_bytes()
    facilities = len(good.decode().strip().splitlines()) - 1
    app.switch_page("pages/data.py").run()
    app.file_uploader(key="upload_files").set_value([
        ("街道报表.xlsx", bomb,
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("设施.csv", good, "text/csv"),
    ]).run()
    assert not app.exception, app.exception
    problems = app.dataframe[0].value
    assert len(problems) == 1  # the check's reason, in place of the stand-in's
    reasons = " ".join(problems[t("column.reason")])
    assert "解压后过大" in reasons and "300 MB" in reasons and "256 MB" in reasons
    assert t("import.unsupported_format", suffix=".refused") not in reasons
    # The other file is judged with the batch: as the import would, it is not
    # checked against a communities file that was refused.
    assert [s.value for s in app.success] == [t("data.validate.ok", rows=f"{facilities:,}")]
    notes = " ".join(m.value for m in app.markdown)
    assert t("import.note.reference_skipped")[:10] in notes  # 未核对社区编码是否存在
    assert app.button(key="apply_import").disabled
    assert not _refs(app)


def test_elsewhere_a_failing_page_still_surfaces_as_an_exception(app, monkeypatch):
    """Without `failures_expected` (every other AppTest), a page failure is
    raised on, so `assert not app.exception` keeps catching broken pages."""
    app.switch_page("pages/funding.py").run()
    monkeypatch.setattr(text, "t", _fail)
    app.run()
    assert app.exception  # Streamlit's own (redacted) box, as before the guard
    assert not _refs(app)
