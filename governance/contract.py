"""The data contract as code: tables, columns, aliases, types, rules, enum codes.

This module is the single declaration of what a bureau may upload. The import
pipeline, the templates, the schema test and the SQL allowlist all read it, so a
column added here is accepted, templated and checked everywhere at once.
Names, ids and codes are stable: users' templates and scripts depend on them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal[
    "text", "int", "number", "money", "percent", "date", "datetime", "year_month", "year",
    "enum",
]


@dataclass(frozen=True)
class EnumCode:
    code: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class EnumType:
    name: str
    codes: tuple[EnumCode, ...]

    def label_of(self, code: str) -> str:
        for item in self.codes:
            if item.code == code:
                return item.label
        return code

    def lookup(self) -> dict[str, str]:
        """Every accepted spelling (code, label, alias), normalised, → code."""
        table: dict[str, str] = {}
        for item in self.codes:
            for spelling in (item.code, item.label, *item.aliases):
                table[normalize_text(spelling).lower()] = item.code
        return table


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: ColumnKind
    required: bool = False
    aliases: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    enum: EnumType | None = None
    default: str | None = None
    # Same-row rules: this value must not exceed / precede another column's.
    not_above: str | None = None
    not_before: str | None = None
    # Same-row rule: this cell may be filled only when another (enum) column of
    # the row holds the given code, e.g. ("status", "resolved").
    only_when: tuple[str, str] | None = None
    unit: str = ""
    help: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    label: str
    columns: tuple[Column, ...]
    # Columns whose combined value must be unique within a file.
    key: tuple[str, ...] = ()
    # What an accepted file replaces: the whole table, only the years / months
    # the file contains, or only the rows whose key the file contains (event
    # records: a later export updates an incident's status without touching
    # the incidents it does not list).
    replaces: Literal["table", "years", "months", "keys"] = "table"
    references_communities: bool = True
    optional: bool = False
    help: str = ""
    column_by_name: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_by_name", {c.name: c for c in self.columns})

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


def _codes(*items: tuple[str, str, tuple[str, ...]]) -> tuple[EnumCode, ...]:
    return tuple(EnumCode(code, label, aliases) for code, label, aliases in items)


COMMUNITY_TYPE = EnumType(
    "community_type",
    _codes(
        ("urban", "城市社区", ("城市",)),
        ("rural", "农村社区", ("村", "农村", "行政村")),
        ("resettlement", "安置社区", ("安置区",)),
        ("old_town", "老城区社区", ("老城区",)),
        ("urban_village", "城中村", ()),
    ),
)

FACILITY_TYPE = EnumType(
    "facility_type",
    _codes(
        ("service_center", "综合服务中心", ("社区服务站", "党群服务中心", "社区综合服务中心")),
        ("culture", "文化活动室", ("图书室", "农家书屋")),
        ("sports", "体育健身场地", ("健身路径",)),
        ("elderly_daycare", "日间照料中心", ("养老服务站",)),
        ("elderly_home", "养老院", ("敬老院",)),
        ("health", "卫生服务站", ("社区卫生服务中心",)),
        ("childcare", "托育机构", ("幼儿园", "托儿所")),
        ("police", "警务室", ()),
        ("mediation", "调解室", ()),
        ("public_toilet", "公共厕所", ()),
        ("waste", "垃圾分类点", ()),
        ("parking", "停车场", ()),
        ("fire", "微型消防站", ()),
        ("park", "小公园", ("小广场",)),
        ("other", "其他", ()),
    ),
)

FACILITY_STATUS = EnumType(
    "facility_status",
    _codes(
        ("in_use", "在用", ()),
        ("building", "在建", ()),
        ("planned", "规划", ()),
        ("closed", "停用", ()),
    ),
)

FUNDING_CATEGORY = EnumType(
    "funding_category",
    _codes(
        ("office", "办公经费", ()),
        ("party_building", "党建经费", ()),
        ("public_welfare", "公益创投", ()),
        ("facility", "设施建设", ()),
        ("staff", "人员报酬", ()),
        ("activity", "活动经费", ()),
        ("other", "其他", ()),
    ),
)

FUNDING_SOURCE = EnumType(
    "funding_source",
    _codes(
        ("fiscal", "财政拨款", ()),
        ("co_building", "共建单位", ()),
        ("donation", "社会捐助", ()),
        ("service_income", "有偿服务", ()),
        ("other", "其他", ()),
    ),
)

# Grid-event categories. The first six are what the monthly safety report
# counts, so incidents reconcile with it (INCIDENT_REPORT_COLUMNS).
INCIDENT_CATEGORY = EnumType(
    "incident_category",
    _codes(
        ("criminal", "刑事案件", ("刑事",)),
        ("public_order", "治安案件", ("治安",)),
        ("fire", "火灾", ("火情", "火警")),
        ("dispute", "矛盾纠纷", ("纠纷", "民事纠纷")),
        ("mass_incident", "群体性事件", ("群体事件",)),
        ("petition", "信访", ("信访件", "来信来访")),
        ("hazard", "安全隐患", ("隐患",)),
        ("environment", "环境卫生", ("环境", "卫生")),
        ("public_facility", "公共设施", ("设施损坏", "市政设施")),
        ("other", "其他", ()),
    ),
)

INCIDENT_SEVERITY = EnumType(
    "incident_severity",
    _codes(
        ("general", "一般", ("轻微", "低")),
        ("serious", "较大", ("较重", "中")),
        ("major", "重大", ("特别重大", "高")),
    ),
)

INCIDENT_STATUS = EnumType(
    "incident_status",
    _codes(
        ("reported", "已上报", ("待处理", "未处理", "待办", "待受理")),
        ("in_progress", "处置中", ("处理中", "办理中", "已受理")),
        ("resolved", "已办结", ("办结", "已解决", "已处理", "已完成", "已结案")),
    ),
)

# Monthly-report column each reconciled incident category is counted in;
# major criminal incidents are also counted in major_criminal_cases.
INCIDENT_REPORT_COLUMNS: dict[str, str] = {
    "criminal": "criminal_cases",
    "public_order": "public_order_cases",
    "fire": "fire_incidents",
    "dispute": "disputes_received",
    "mass_incident": "mass_incidents",
    "petition": "petitions",
}

COMMUNITY_ID_ALIASES = ("社区编码",)

COMMUNITIES = Table(
    "communities",
    "社区基本信息",
    (
        Column("community_id", "社区编码", "text", True, ("社区代码", "编码")),
        Column("community_name", "社区名称", "text", True, ("社区（村）名称", "名称")),
        Column("street", "街道", "text", True, ("所属街道", "街道（乡镇）", "乡镇（街道）")),
        Column("district", "区县", "text", False, ("所属区县",)),
        Column("community_type", "社区类型", "enum", True, ("类型",), enum=COMMUNITY_TYPE),
        Column("households", "户数", "int", True, ("居民户数", "常住户数"), minimum=0, unit="户"),
        Column("population", "常住人口", "int", True, ("人口", "人口数"), minimum=0, unit="人"),
        Column(
            "elderly_population", "60岁以上老人", "int", False,
            ("60岁及以上人口", "老年人口"), minimum=0, not_above="population", unit="人",
        ),
        Column("floating_population", "流动人口", "int", False, (), minimum=0, unit="人"),
        Column("low_income_households", "低保户数", "int", False, ("困难户数",), minimum=0, unit="户"),
        Column(
            "office_area_m2", "办公和活动用房面积", "number", True,
            ("用房面积", "活动用房面积"), minimum=0, unit="平方米",
        ),
        Column("staff_count", "社区工作者人数", "int", False, ("工作人员数",), minimum=0, unit="人"),
        Column(
            "certified_social_workers", "持证社工人数", "int", False,
            ("社会工作师人数",), minimum=0, not_above="staff_count", unit="人",
        ),
        Column("staff_avg_monthly_pay", "工作者月均报酬", "money", False, ("月均报酬",), minimum=0, unit="元/月"),
        Column("committee_members", "居委会成员数", "int", False, ("两委成员数",), minimum=0, unit="人"),
        Column("volunteers", "注册志愿者人数", "int", False, ("志愿者人数",), minimum=0, unit="人"),
        Column("lon", "经度", "number", False, (), minimum=-180, maximum=180, unit="度"),
        Column("lat", "纬度", "number", False, (), minimum=-90, maximum=90, unit="度"),
    ),
    key=("community_id",),
    references_communities=False,
)

FACILITIES = Table(
    "facilities",
    "公共服务设施",
    (
        Column("facility_id", "设施编码", "text", True),
        Column("community_id", "社区编码", "text", True, ("所属社区编码",)),
        Column("facility_type", "设施类型", "enum", True, ("类型",), enum=FACILITY_TYPE),
        Column("facility_name", "设施名称", "text", False, ("名称",)),
        Column("area_m2", "建筑面积", "number", False, ("面积",), minimum=0, unit="平方米"),
        Column("capacity", "床位数", "int", False, ("容量",), minimum=0),
        Column(
            "status", "状态", "enum", False, ("使用状态",),
            enum=FACILITY_STATUS, default="in_use",
        ),
        Column("lon", "经度", "number", False, (), minimum=-180, maximum=180, unit="度"),
        Column("lat", "纬度", "number", False, (), minimum=-90, maximum=90, unit="度"),
    ),
    key=("facility_id",),
)

FUNDING = Table(
    "funding",
    "经费拨付",
    (
        Column("community_id", "社区编码", "text", True),
        Column("year", "年度", "year", True, ("年份",), minimum=2000, maximum=2100),
        Column("category", "经费类别", "enum", True, ("类别",), enum=FUNDING_CATEGORY),
        Column("source", "资金来源", "enum", False, ("来源",), enum=FUNDING_SOURCE, default="fiscal"),
        Column("amount_yuan", "金额", "money", True, (), minimum=0, unit="元"),
        Column("allocated_date", "下达日期", "date", False),
        Column("disbursed_date", "到账日期", "date", False, not_before="allocated_date"),
    ),
    replaces="years",
)

SAFETY = Table(
    "safety",
    "平安建设月报",
    (
        Column("community_id", "社区编码", "text", True),
        Column("month", "月份", "year_month", True, ("统计月份",)),
        Column("criminal_cases", "刑事案件数", "int", False, (), minimum=0, unit="起"),
        Column(
            "major_criminal_cases", "重大刑事案件数", "int", False, (),
            minimum=0, not_above="criminal_cases", unit="起",
        ),
        Column("public_order_cases", "治安案件数", "int", False, (), minimum=0, unit="起"),
        Column("fire_incidents", "火灾起数", "int", False, (), minimum=0, unit="起"),
        Column("disputes_received", "矛盾纠纷受理数", "int", False, ("纠纷排查数",), minimum=0, unit="件"),
        Column(
            "disputes_mediated", "调解数", "int", False, ("纠纷调解数",),
            minimum=0, not_above="disputes_received", unit="件",
        ),
        Column(
            "disputes_resolved", "调解成功数", "int", False, (),
            minimum=0, not_above="disputes_mediated", unit="件",
        ),
        Column("mass_incidents", "群体性事件数", "int", False, (), minimum=0, unit="起"),
        Column("petitions", "信访件数", "int", False, (), minimum=0, unit="件"),
        Column("correction_subjects", "社区矫正对象数", "int", False, (), minimum=0, unit="人"),
        Column(
            "reoffenders", "矫正对象再犯人数", "int", False, (),
            minimum=0, not_above="correction_subjects", unit="人",
        ),
        Column(
            "police_hours", "民警下沉社区时长", "number", False, ("民警进社区时长",),
            minimum=0, unit="小时",
        ),
        Column("satisfaction_rate", "居民满意率", "percent", False, (), minimum=0, maximum=100, unit="%"),
        Column(
            "legal_education_rate", "普法教育覆盖率", "percent", False, ("普法教育率",),
            minimum=0, maximum=100, unit="%",
        ),
    ),
    key=("community_id", "month"),
    replaces="months",
)

RESIDENCES = Table(
    "residences",
    "楼栋/网格",
    (
        Column("residence_id", "楼栋编码", "text", True, ("网格编码",)),
        Column("community_id", "社区编码", "text", True),
        Column("households", "户数", "int", True, (), minimum=0, unit="户"),
        Column("population", "人口", "int", False, (), minimum=0, unit="人"),
        Column("lon", "经度", "number", True, (), minimum=-180, maximum=180, unit="度"),
        Column("lat", "纬度", "number", True, (), minimum=-90, maximum=90, unit="度"),
    ),
    key=("residence_id",),
    optional=True,
)

INCIDENTS = Table(
    "incidents",
    "网格事件",
    (
        Column("incident_id", "事件编号", "text", True, ("事件编码", "工单编号", "工单号")),
        Column("community_id", "社区编码", "text", True, ("所属社区编码",)),
        Column(
            "occurred_at", "发生时间", "datetime", True, ("上报时间", "受理时间", "事发时间"),
            help="2023-05-01 14:30，也可只写日期",
        ),
        Column("category", "事件类别", "enum", True, ("类别", "事件类型"), enum=INCIDENT_CATEGORY),
        Column(
            "severity", "严重程度", "enum", False, ("等级", "事件等级"),
            enum=INCIDENT_SEVERITY, default="general",
        ),
        Column("status", "办理状态", "enum", True, ("状态", "处置状态"), enum=INCIDENT_STATUS),
        Column(
            "resolved_at", "办结时间", "datetime", False, ("处置完成时间", "结案时间"),
            not_before="occurred_at", only_when=("status", "resolved"),
        ),
        Column("lon", "经度", "number", False, (), minimum=-180, maximum=180, unit="度"),
        Column("lat", "纬度", "number", False, (), minimum=-90, maximum=90, unit="度"),
    ),
    key=("incident_id",),
    replaces="keys",
    optional=True,
)

# Import order matters: every other table refers to communities.
TABLES: dict[str, Table] = {
    t.name: t for t in (COMMUNITIES, FACILITIES, FUNDING, SAFETY, RESIDENCES, INCIDENTS)
}

ENUMS: dict[str, EnumType] = {
    e.name: e
    for e in (
        COMMUNITY_TYPE, FACILITY_TYPE, FACILITY_STATUS, FUNDING_CATEGORY, FUNDING_SOURCE,
        INCIDENT_CATEGORY, INCIDENT_SEVERITY, INCIDENT_STATUS,
    )
}

TOTAL_ROW_MARKERS = ("合计", "总计", "小计", "总合计")

_TRAILING_UNIT = re.compile(r"^(?P<name>.*?)\s*[(\[](?P<unit>[^()\[\]]*)[)\]]\s*$")
_SPACES = re.compile(r"\s+")


def normalize_text(value: str) -> str:
    """NFKC (full-width → half-width) and trimmed, inner whitespace removed."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value)).strip()


def split_header(raw: str) -> tuple[str, str]:
    """`面积（平方米）` → (`面积`, `平方米`); a header without a unit → (name, '')."""
    text = normalize_text(raw)
    match = _TRAILING_UNIT.match(text)
    if match and match.group("name"):
        return match.group("name"), match.group("unit")
    return text, ""


@dataclass(frozen=True)
class HeaderMatch:
    """How a file's header row maps onto a table's columns."""

    table: Table
    # file column position → contract column name
    positions: dict[int, str]
    # contract column name → unit written in the header, e.g. '万元'
    units: dict[str, str]
    unknown: tuple[str, ...]
    duplicated: tuple[str, ...]

    @property
    def missing_required(self) -> tuple[str, ...]:
        found = set(self.positions.values())
        return tuple(c.name for c in self.table.required_columns if c.name not in found)


def header_lookup(table: Table) -> dict[str, str]:
    """Every accepted header spelling (normalised, lower-case) → column name.

    The canonical Chinese label also counts as an alias.
    """
    lookup: dict[str, str] = {}
    for column in table.columns:
        for spelling in (column.name, column.label, *column.aliases):
            lookup[normalize_text(spelling).lower()] = column.name
    return lookup


def match_header(table: Table, headers: list[str]) -> HeaderMatch:
    lookup = header_lookup(table)
    positions: dict[int, str] = {}
    units: dict[str, str] = {}
    unknown: list[str] = []
    duplicated: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(headers):
        if raw is None or not str(raw).strip():
            continue
        full = normalize_text(str(raw)).lower()
        name, unit = split_header(str(raw))
        column = lookup.get(full) or lookup.get(name.lower())
        if column is None:
            unknown.append(str(raw).strip())
            continue
        if column in seen:
            duplicated.append(str(raw).strip())
            continue
        seen.add(column)
        positions[index] = column
        if unit and lookup.get(full) is None:
            units[column] = unit
    return HeaderMatch(table, positions, units, tuple(unknown), tuple(duplicated))


def detect_table(headers: list[str]) -> Table | None:
    """The table whose required columns a header row covers best, or None.

    A table qualifies only when every required column is present; among those,
    the one matching most columns wins (residences beat communities on a file
    with 楼栋编码, for instance).
    """
    best: tuple[int, Table] | None = None
    for table in TABLES.values():
        match = match_header(table, headers)
        if match.missing_required:
            continue
        score = len(match.positions) - len(match.unknown)
        if best is None or score > best[0]:
            best = (score, table)
    return best[1] if best else None
