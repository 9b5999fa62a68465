"""A small real district's own exports, as a bureau would upload them on day one.

Five communities in two streets that the sample does not have, written the way
Chinese office software writes them: communities as GBK with a title line, a
blank line, full-width digits, thousands separators and a 合计 row; facilities
as .xlsx; funding as UTF-8 with a BOM and amounts in 万元; safety with months
written 2025年1月 and rates as 96%.

Hand-computed coverage (centre basis: no buildings are imported). Walking
distance = great-circle distance × 1.25, radius 500 m, service centres in use:
- 北湖社区 (117.000, 32.600), 1,000 户: 北湖服务中心 at (117.002, 32.600) is
  187 m away, 234 m walking → covered.
- 南湖社区 (117.010, 32.600), 800 户: 南湖服务中心 at (117.010, 32.603) is
  334 m away, 417 m walking → covered.
- 东山村 (117.050, 32.600), 500 户: nearest centre 3.7 km away → not covered.
- 西山社区 (116.990, 32.610), 1,200 户: nearest centre 1.6 km → not covered.
- 新城社区 (117.020, 32.620), 1,500 户: its own centre is 停用 (closed) → not
  covered.
District: 1,800 of 5,000 households covered = 36.0 %; F03 per community 100,
100, 0, 0, 0.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl

COMMUNITY_IDS = ("340499001001", "340499001002", "340499001003",
                 "340499002001", "340499002002")
NAMES = ("北湖社区", "南湖社区", "东山村", "西山社区", "新城社区")
STREETS = ("北湖街道", "北湖街道", "北湖街道", "南山街道", "南山街道")
HOUSEHOLDS = (1000, 800, 500, 1200, 1500)
F03_BY_COMMUNITY = dict(zip(COMMUNITY_IDS, (100.0, 100.0, 0.0, 0.0, 0.0), strict=True))
HOUSEHOLDS_COVERED = 1800
HOUSEHOLDS_TOTAL = 5000

_FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def communities_gbk() -> bytes:
    rows = [
        # id, name, street, type, households, population, office m², lon, lat
        (COMMUNITY_IDS[0], NAMES[0], STREETS[0], "城市社区", "1,000", "2860", "300", "117.000", "32.600"),
        (COMMUNITY_IDS[1], NAMES[1], STREETS[1], "老城区社区", "８００", "2210", "160", "117.010", "32.600"),
        (COMMUNITY_IDS[2], NAMES[2], STREETS[2], "农村社区", "500", "1630", "260", "117.050", "32.600"),
        (COMMUNITY_IDS[3], NAMES[3], STREETS[3], "城市社区", "1,200", "3350", "330", "116.990", "32.610"),
        (COMMUNITY_IDS[4], NAMES[4], STREETS[4], "安置社区", "1,500", "4100", "500", "117.020", "32.620"),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["湖滨区社区基本情况统计表（2025年）", "", "", "", "", "", "", "", ""])
    writer.writerow([""] * 9)
    writer.writerow(["社区编码", "社区（村）名称", "所属街道", "社区类型", "户数（户）",
                     "常住人口（人）", "办公和活动用房面积（平方米）", "经度", "纬度"])
    for row in rows:
        # A clerk's full-width population figure on the second row.
        cells = list(row)
        if cells[0] == COMMUNITY_IDS[1]:
            cells[5] = cells[5].translate(_FULL_WIDTH)
        writer.writerow(cells)
    writer.writerow(["合计", "", "", "", "5,000", "14150", "1550", "", ""])
    return out.getvalue().encode("gbk")


FACILITIES = (
    # id, community, type, name, area m², status, lon, lat
    ("HB-F001", COMMUNITY_IDS[0], "综合服务中心", "北湖服务中心", 420, "在用", 117.002, 32.600),
    ("HB-F002", COMMUNITY_IDS[1], "综合服务中心", "南湖服务中心", 380, "在用", 117.010, 32.603),
    ("HB-F003", COMMUNITY_IDS[4], "综合服务中心", "新城服务中心", 300, "停用", 117.020, 32.621),
    ("HB-F004", COMMUNITY_IDS[0], "日间照料中心", "北湖日间照料中心", 260, "在用", 117.001, 32.601),
    ("HB-F005", COMMUNITY_IDS[3], "警务室", "西山警务室", 40, "在用", 116.991, 32.611),
)


def facilities_xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "设施清单"
    sheet.append(["设施编码", "所属社区编码", "设施类型", "设施名称", "建筑面积（平方米）",
                  "使用状态", "经度", "纬度"])
    for row in FACILITIES:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def funding_bom_csv() -> bytes:
    lines = ["社区编码,年度,经费类别,资金来源,金额（万元）,下达日期,到账日期"]
    for community_id in COMMUNITY_IDS:
        lines.append(f"{community_id},2025,办公经费,财政拨款,2.5,2025-03-01,2025-03-20")
        lines.append(f"{community_id},2025,党建经费,财政拨款,1.2,2025-03-01,2025-04-30")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def safety_csv() -> bytes:
    header = ("社区编码,统计月份,刑事案件数,重大刑事案件数,矛盾纠纷受理数,调解数,调解成功数,"
              "群体性事件数,民警下沉社区时长,居民满意率,普法教育覆盖率")
    lines = [header]
    for number, community_id in enumerate(COMMUNITY_IDS):
        # 新城社区 began reporting in October: 3 of 12 months.
        months = range(10, 13) if community_id == COMMUNITY_IDS[4] else range(1, 13)
        for month in months:
            lines.append(
                f"{community_id},2025年{month}月,{number % 2},0,10,9,8,0,{40 + number},96%,92%"
            )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


FILES = {
    "communities": ("湖滨区社区基本信息.csv", communities_gbk),
    "facilities": ("湖滨区公共服务设施.xlsx", facilities_xlsx),
    "funding": ("湖滨区经费拨付2025.csv", funding_bom_csv),
    "safety": ("湖滨区平安建设月报2025.csv", safety_csv),
}


def write_district(folder: Path) -> dict[str, Path]:
    """Write the four exports into `folder`; table name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for table, (name, build) in FILES.items():
        path = folder / name
        path.write_bytes(build())
        written[table] = path
    return written
