"""Fixtures shared by every test layer."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance import db

PROJECT_DIR = Path(__file__).resolve().parent.parent
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
SAMPLE_DIR = PROJECT_DIR / "data" / "sample"

CHROMIUM = "/usr/bin/chromium"
# Flags from the machine notes: without the background-networking ones Chromium
# keeps dialling Google, which a closed intranet refuses.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium, one for the whole run: Playwright's sync API
    allows one running instance per thread, and both the browser tests and the
    cluster tests drive it. Never skipped: without it the tests fail with the
    command that installs it."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `apt-get install -y chromium fonts-noto-cjk`")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def memory_conn():
    """An empty in-memory database with the schema applied."""
    conn = db.connect_memory()
    yield conn
    conn.close()


def load_fixture_sql(conn, name: str) -> None:
    """Run tests/fixtures/<name>.sql (plain SQL inserts) into conn."""
    conn.execute((FIXTURES_DIR / f"{name}.sql").read_text(encoding="utf-8"))


def messy_communities_csv(rows: int | None = None, households_bump: int = 0) -> bytes:
    """The sample communities as a Chinese Windows Excel export would write them.

    GBK-encoded, Chinese headers with units in full-width brackets, a title line
    above the header, a blank line and a 合计 row at the bottom. `households_bump`
    adds to every community's households so an import visibly changes figures.
    """
    import csv
    import io

    with open(SAMPLE_DIR / "communities.csv", encoding="utf-8", newline="") as handle:
        records = list(csv.DictReader(handle))
    if rows is not None:
        records = records[:rows]
    headers = {
        "community_id": "社区编码",
        "community_name": "社区（村）名称",
        "street": "所属街道",
        "community_type": "社区类型",
        "households": "户数（户）",
        "population": "常住人口（人）",
        "office_area_m2": "办公和活动用房面积（平方米）",
        "staff_count": "社区工作者人数",
        "committee_members": "居委会成员数",
        "volunteers": "注册志愿者人数",
        "lon": "经度",
        "lat": "纬度",
    }
    type_labels = {
        "urban": "城市社区", "rural": "村", "resettlement": "安置社区",
        "old_town": "老城区", "urban_village": "城中村",
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["示例区社区基本情况统计表"] + [""] * (len(headers) - 1))
    writer.writerow(list(headers.values()))
    total_households = 0
    for record in records:
        households = int(record["households"]) + households_bump
        total_households += households
        row = []
        for key in headers:
            value = record[key]
            if key == "community_type":
                value = type_labels[value]
            elif key == "households":
                value = f"{households:,}"
            row.append(value)
        writer.writerow(row)
    writer.writerow([""] * len(headers))
    writer.writerow(["合计", "", "", "", f"{total_households:,}"] + [""] * (len(headers) - 5))
    return out.getvalue().encode("gbk")


def bad_communities_csv() -> bytes:
    """A UTF-8 communities file with three bad cells on known rows."""
    return (
        "社区编码,社区名称,街道,社区类型,户数,常住人口,办公和活动用房面积\n"
        "X001,甲社区,东街道,城市社区,1200,3000,320\n"          # row 2: fine
        "X002,乙社区,东街道,城市社区,-5,3000,320\n"            # row 3: households < 0
        "X003,丙社区,东街道,火星社区,1200,3000,320\n"          # row 4: bad type
        "X001,丁社区,东街道,城市社区,1200,3000,abc\n"          # row 5: dup id, area not a number
    ).encode()


def street_account_without_streets(store, username: str, password: str):
    """A street account with no streets, as older releases let one be made (the
    accounts module now refuses it): added with a street, which is then taken
    out of the accounts file directly. Default deny must still hold for it."""
    import sqlite3

    store.add_user(username, password, "street", ("占位街道",))
    with sqlite3.connect(store.path) as conn:
        conn.execute("update users set streets = '[]' where username = ?", (username,))
    conn.close()
