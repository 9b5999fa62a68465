"""No English or internal word reaches a reader: every page's visible text, the
meeting brief and every download the pages offer are read in full and may hold
no Latin-letter word beyond a short list of names a reader knows (WGS-84, Excel,
CSV, units, indicator numbers).

What a page shows is read from AppTest's element tree: every string field of
every element's message (labels, values, captions, markdown, help, options as
formatted), dataframe headers and cells as Streamlit's front end draws them (a
missing value reads as the table's placeholder, or "None" without one; a table
without rows reads "empty"), and the visible text of Plotly figures (titles,
axis titles, legend entries, hover templates, category labels). Downloads are
built by the very callables the pages hand their download buttons.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator

import openpyxl
import pandas as pd
import pytest
from google.protobuf.message import Message
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe

from governance import auth, templates
from governance.contract import TABLES
from governance.text import t
from pages import _exports
from tests.app.conftest import TIMEOUT_S
from tests.conftest import PROJECT_DIR, SAMPLE_DIR

PASSWORD = "correct-horse-battery"
# Names the bureau types (accounts, files, ids) are its own data, shown as
# typed: this test's are Chinese or digits, so any Latin word left is the app's.
USERNAME = "区管理员"
BAD_COMMUNITIES = (
    "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
    "9001,甲社区,东街道,城市社区,1200,3000,320\n"
    "9002,乙社区,东街道,城市社区,-5,3000,320\n"      # households below 0
    "9003,丙社区,东街道,火星社区,1200,3000,320\n"    # a type the contract does not have
    "9004,丁社区,东街道,城市社区,1200,3000,三百\n"   # an area that is no number
).encode()

# Latin-letter names a reader of the dashboard knows, removed before looking
# for any other Latin letter. Each is a whole-word pattern.
ALLOWED = (
    r"WGS-84", r"GCJ-02", r"BD-09",            # coordinate systems, as the maps' pickers name them
    r"Excel", r"CSV", r"\.?xlsx", r"HTML",     # file kinds on buttons and captions
    r"GeoJSON", r"FeatureCollection",          # the boundary file format, as its standard spells it
    r"UTF-8", r"GBK", r"GB18030", r"BOM",      # encodings the import accepts
    r"GB \d{5}-\d{4}",                         # a national standard's number (GB 50180-2018)
    r"SHA-256", r"[0-9a-f]{64}",               # the import history's file fingerprint
    r"m²", r"km", r"m", r"MB",                 # units
    # Numbers with a capital-letter prefix: indicators (F01, S09), ids the
    # bureau's data carries (340403001001-R08, SJ340403001001), paper (A4).
    r"[A-Z]{1,4}\d[0-9A-Z]*",
    # A file's name as it is on disk (the sample's communities.csv, an export),
    # its dot perhaps escaped for markdown.
    r"[\w.-]+\\?\.(?:csv|xlsx|html|geojson|json)",
)
# Also allowed in instructions (captions, help), never in tables or exports:
# the property a boundary file's features must carry, named as GeoJSON has it.
PROSE_ALLOWED = (r"community_id",)
PROSE = re.compile(r"\.(?:body|help|caption)$")
_ALLOWED = re.compile(r"(?<![A-Za-z])(?:" + "|".join(ALLOWED) + r")(?![A-Za-z])")
_PROSE_ALLOWED = re.compile(r"(?<![A-Za-z])(?:" + "|".join(PROSE_ALLOWED) + r")(?![A-Za-z])")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

# Message fields that are not shown: ids, keys, formats, kinds, media.
HIDDEN_FIELDS = {
    "id", "form_id", "key", "tag", "format", "deferred_file_id", "type", "mime", "url",
    "icon", "theme", "spec", "json", "data", "columns", "arrow_data", "selection_mode",
    "mapbox_token", "tooltip", "color", "background_color", "vertical_alignment",
    "page_script_hash", "page_name", "file_name", "default", "autocomplete",
}
# Plotly keys whose strings a reader sees.
PLOTLY_TEXT_KEYS = {
    "text", "name", "hovertemplate", "texttemplate", "ticktext", "x", "y", "z", "labels",
    "customdata", "ticksuffix", "tickprefix", "title",
}
_PLOTLY_MARKUP = re.compile(r"%\{[^}]*\}|<extra>.*?</extra>|<[^>]+>")


def latin_words(text: str, prose: bool = False) -> list[str]:
    """The Latin-letter words of `text` that are not on the allowed list."""
    text = _ALLOWED.sub(" ", text)
    if prose:
        text = _PROSE_ALLOWED.sub(" ", text)
    return _LATIN_WORD.findall(text)


# -- what a page shows ------------------------------------------------------------


def _message_strings(message: Message, path: str) -> Iterator[tuple[str, str]]:
    for field, value in message.ListFields():
        if field.name in HIDDEN_FIELDS:
            continue
        values = list(value) if field.is_repeated else [value]
        for item in values:
            if isinstance(item, Message):
                yield from _message_strings(item, f"{path}.{field.name}")
            elif isinstance(item, str):
                yield f"{path}.{field.name}", item


def _cell_text(value) -> str | None:
    """What the front end draws for a non-missing cell, where it may hold words."""
    if isinstance(value, bool):
        return None  # a checkbox
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, str):
        return value
    return None  # numbers and dates read as digits


def dataframe_texts(table) -> Iterator[tuple[str, str]]:
    """Headers, header tooltips and cells of an st.dataframe as drawn."""
    proto = table.proto
    frame = table.value
    config = json.loads(proto.columns) if proto.columns else {}
    order = list(proto.column_order) or [str(c) for c in frame.columns]
    placeholder = proto.placeholder if proto.HasField("placeholder") else "None"
    if len(frame) == 0:
        yield "dataframe.empty", "empty"
    for name in order:
        column_config = config.get(name) or {}
        if column_config.get("hidden"):
            continue
        yield "dataframe.header", column_config.get("label") or name
        if column_config.get("help"):
            yield "dataframe.tooltip", column_config["help"]
        if name not in frame.columns:
            continue
        column = frame[name]
        if isinstance(column, pd.DataFrame):  # duplicate labels
            column = column.iloc[:, 0]
        for value in column.tolist():
            if value is None or (not isinstance(value, list | tuple) and pd.isna(value)):
                yield f"dataframe.cell[{name}]", placeholder
            else:
                text = _cell_text(value)
                if text:
                    yield f"dataframe.cell[{name}]", text


def plotly_texts(spec: str) -> Iterator[tuple[str, str]]:
    figure = json.loads(spec)

    def walk(node, key: str | None, path: str):
        if isinstance(node, dict):
            for child_key, child in node.items():
                if child_key == "template":
                    continue
                yield from walk(child, child_key, f"{path}.{child_key}")
        elif isinstance(node, list):
            for child in node:
                yield from walk(child, key, path)
        elif isinstance(node, str) and key in PLOTLY_TEXT_KEYS:
            yield path, _PLOTLY_MARKUP.sub(" ", node)

    yield from walk({"data": figure.get("data"), "layout": figure.get("layout")}, None, "plotly")


def _nodes(node) -> Iterator:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _nodes(child)


def page_texts(app: AppTest) -> Iterator[tuple[str, str]]:
    """Every text the page shows, as (where, text)."""
    for node in _nodes(app._tree):
        proto = getattr(node, "proto", None)
        kind = type(node).__name__
        if isinstance(node, Dataframe):
            yield from ((f"{kind}.{where}", text) for where, text in dataframe_texts(node))
        elif isinstance(proto, Message) and proto.DESCRIPTOR.name == "PlotlyChart":
            yield from plotly_texts(proto.spec)
        elif isinstance(proto, Message) and (
                proto.DESCRIPTOR.name == "Html"
                or (proto.DESCRIPTOR.name == "Markdown" and proto.allow_html)):
            # HTML a page writes (a legend): a reader sees its text, not its tags.
            yield from ((f"{kind}.body", text) for _, text in html_texts(proto.body.encode()))
        elif isinstance(proto, Message):
            yield from _message_strings(proto, kind)


# -- what the downloads hold ------------------------------------------------------


def workbook_texts(data: bytes, sheets: int | None = None) -> Iterator[tuple[str, str]]:
    """Sheet names and every cell a reader sees (booleans read TRUE / FALSE)."""
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    for sheet in book.worksheets[:sheets]:
        yield "sheet", sheet.title
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if isinstance(value, bool):
                    yield f"{sheet.title}.cell", str(value).upper()
                elif isinstance(value, str):
                    yield f"{sheet.title}.cell", value


def csv_texts(data: bytes) -> Iterator[tuple[str, str]]:
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))):
        for value in row:
            yield "csv.cell", value


def html_texts(data: bytes) -> Iterator[tuple[str, str]]:
    """The text of an HTML page: scripts and styles dropped, then every tag."""
    text = data.decode("utf-8")
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    yield "html.text", html.unescape(text)


def download_texts(file_name: str, data: bytes) -> Iterator[tuple[str, str]]:
    if file_name.endswith(".xlsx"):
        yield from workbook_texts(data)
    elif file_name.endswith(".csv"):
        yield from csv_texts(data)
    elif file_name.endswith(".html"):
        yield from html_texts(data)
    else:
        raise AssertionError(f"a download this test cannot read: {file_name}")


def offenders(texts) -> list[str]:
    found = []
    for where, text in texts:
        words = latin_words(text, prose=bool(PROSE.search(where)))
        if words:
            found.append(f"{where}: {sorted(set(words))} in {text[:160]!r}")
    return sorted(set(found))


# -- the pages, as an administrator on the sample district --------------------------


def _upload(files):
    def upload(at):
        return at.file_uploader(key="upload_files").set_value(files)
    return upload


def _sample(name: str) -> tuple[str, bytes, str]:
    return (f"{TABLES[name].label}.csv", (SAMPLE_DIR / f"{name}.csv").read_bytes(), "text/csv")


PAGES = {
    "overview": ("pages/overview.py", ()),
    "facilities": ("pages/facilities.py",
                   (lambda at: at.text_area(key="proposals_text").input("117.0123,32.6345"),)),
    "funding": ("pages/funding.py", ()),
    "safety": ("pages/safety.py", ()),
    "scenarios": ("pages/scenarios.py",
                  (lambda at: at.number_input(key="scn_floor_F01").set_value(30.0),)),
    # A valid batch (its preview holds every code the sample uses), then a bad file.
    "data_preview": ("pages/data.py",
                     (_upload([_sample("facilities"), _sample("funding")]),)),
    "data_problems": ("pages/data.py",
                      (_upload([("社区表.csv", BAD_COMMUNITIES, "text/csv")]),)),
    "admin": ("pages/admin.py", ()),
}


def _record_downloads(monkeypatch) -> list[tuple[str, object]]:
    """(file name, the callable that builds it) of every audited download drawn."""
    recorded = []
    original = _exports.export_button

    def export_button(ctx, label, *, data, file_name, key, **kwargs):
        recorded.append((file_name, data))
        return original(ctx, label, data=data, file_name=file_name, key=key, **kwargs)

    monkeypatch.setattr(_exports, "export_button", export_button)
    return recorded


def _signed_in_admin(app_db) -> AppTest:
    store = auth.Accounts(auth.accounts_path(app_db))
    store.add_user(USERNAME, PASSWORD, "admin")
    store.audit(USERNAME, "export", "达标矩阵.xlsx")
    app = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=TIMEOUT_S)
    app.run()
    app.text_input(key="signin_username").input(USERNAME)
    app.text_input(key="signin_password").input(PASSWORD)
    app.button[0].click().run()
    return app


@pytest.mark.parametrize("name", list(PAGES))
def test_page_and_its_downloads_show_no_latin_words(app_db, monkeypatch, name):
    path, interactions = PAGES[name]
    downloads = _record_downloads(monkeypatch)
    app = _signed_in_admin(app_db)
    app.switch_page(path).run(timeout=TIMEOUT_S)
    for interact in interactions:
        interact(app).run(timeout=TIMEOUT_S)
    assert not app.exception, app.exception
    texts = list(page_texts(app))
    assert len(texts) > 20, texts  # the page was drawn
    if name.startswith("data"):
        assert app.dataframe, "the upload drew no table"
    files = {file_name: data for file_name, data in downloads}
    for file_name, data in files.items():
        texts.extend((f"{file_name}: {where}", text)
                     for where, text in download_texts(file_name, data()))
    found = offenders(texts)
    assert found == [], f"{name}:\n" + "\n".join(found)


def test_templates_hold_no_latin_words():
    """The template sheets and CSVs a bureau fills in. (Each workbook's second
    sheet, 填写说明, lists the English column names and codes the import also
    accepts: it documents them on purpose and is not read here.)"""
    texts = []
    for table in TABLES:
        texts.extend(workbook_texts(templates.template_xlsx_bytes(table), sheets=1))
        texts.extend(csv_texts(templates.template_csv_bytes(table)))
    assert offenders(texts) == []


# -- the reading itself -------------------------------------------------------------


def _table_app(placeholder: str | None, rows: int = 1) -> AppTest:
    def script(placeholder, rows):
        import pandas as pd
        import streamlit as st

        frame = pd.DataFrame({"类型": ["urban", None][:rows], "户数": [1.0, None][:rows]})
        st.dataframe(frame, placeholder=placeholder)

    return AppTest.from_function(script, args=(placeholder, rows)).run()


def test_the_reading_sees_none_codes_and_empty_tables():
    """The reading above fails on what a user once saw: "None" in a missing
    cell, a code such as urban, Streamlit's "empty" for a table without rows."""
    words = {w for _, text in page_texts(_table_app(None, rows=2)) for w in latin_words(text)}
    assert {"None", "urban"} <= words
    words = {w for _, text in page_texts(_table_app("—", rows=2)) for w in latin_words(text)}
    assert words == {"urban"}
    words = {w for _, text in page_texts(_table_app("—", rows=0)) for w in latin_words(text)}
    assert words == {"empty"}
    workbook = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(["社区类型", "urban", True])
    book.save(workbook)
    assert {"urban", "TRUE"} <= {w for _, text in workbook_texts(workbook.getvalue())
                                 for w in latin_words(text)}
    assert latin_words("坐标系 WGS-84，导出 Excel，面积 m²，F01 每百户") == []


def test_tables_read_a_dash_for_missing_and_chinese_when_empty():
    """The pages' one way to draw a table (_drawing.table): a missing value reads
    "—", a table without rows is a Chinese caption, not Streamlit's "empty"."""
    def script():
        import pandas as pd

        from pages import _drawing

        _drawing.table(pd.DataFrame({"户数": []}))
        _drawing.table(pd.DataFrame({"户数": []}).style, empty="没有未覆盖的社区")
        _drawing.table(pd.DataFrame({"社区": ["甲", None], "户数": [None, 1.0]}))

    app = AppTest.from_function(script, default_timeout=TIMEOUT_S).run()
    assert not app.exception, app.exception
    assert [caption.value for caption in app.caption] == [t("table.empty"), "没有未覆盖的社区"]
    assert len(app.dataframe) == 1
    assert app.dataframe[0].proto.placeholder == t("table.missing") == "—"
    assert offenders(page_texts(app)) == []
