"""The reproducible sample district (示例区) and the shipped sample CSVs.

`generate_district` builds every contract table from one seeded numpy
Generator (the grid events from a child stream of the same seed, so adding
them left the other tables unchanged), vectorised so that 117,000 communities
still take seconds. The default shape follows the policy seeds
(../shared/seeds/): 9 streets and 4 towns with 117 communities (001), 3
communities above 1,000 m² and 16 above 600 m² of office space while most
have about 300 m² (001), 25,000 yuan office and 100,000 yuan party-building
lines per community (001), lagging disbursement (001), worker pay about 2,000
yuan a month (001), about 2,480 volunteers (001) and 1,000,000 yuan of 公益创投
a year (000). Safety figures scatter around 002's thresholds so that every
status occurs.

Grid events (网格事件) cover the last 12 report months only (the grid system
went live then) and add up to the monthly safety reports category by category,
except a handful of deliberate discrepancies (see `_incidents`).

Everything is fictional: names are invented, coordinates are synthetic points
around lon 117.00, lat 32.63.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from governance.contract import (
    COMMUNITY_TYPE,
    INCIDENT_CATEGORY,
    INCIDENT_REPORT_COLUMNS,
    INCIDENT_SEVERITY,
    INCIDENT_STATUS,
    TABLES,
)

DEFAULT_SEED = 20180308

DISTRICT_NAME = "示例区"
DISTRICT_CODE = "340403"
CENTRE_LON, CENTRE_LAT = 117.00, 32.63
LATEST_YEAR = 2025
LATEST_MONTH = date(2025, 12, 1)
# Lines whose disbursement would fall after this day are still pending.
DATA_AS_OF = date(2026, 1, 31)

# Reference figures for the default 117 communities; they scale with size.
BASE_COMMUNITIES = 117
OFFICE_OVER_1000 = 3  # 001: 我区1000平方米以上社区3个
OFFICE_OVER_600 = 16  # 001: 600平方米以上社区16个 (including the 3)
VOLUNTEERS_TOTAL = 2480  # 001: 310支共2480人的社区志愿者队伍
OFFICE_FUND_YUAN = 25_000  # 001: 每个社区安排办公经费2.5万元
PARTY_FUND_YUAN = 100_000  # 001: 党建经费10万元
PUBLIC_WELFARE_YUAN = 1_000_000  # 000: 每年安排100万元专项资金 … 公益创投
PUBLIC_WELFARE_PROJECTS = 20

_M_PER_DEG_LAT = 111_320.0
_M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(CENTRE_LAT))

TYPE_CODES: tuple[str, ...] = tuple(c.code for c in COMMUNITY_TYPE.codes)
_T = {code: i for i, code in enumerate(TYPE_CODES)}
URBAN, RURAL, RESETTLEMENT, OLD_TOWN, URBAN_VILLAGE = (
    _T["urban"], _T["rural"], _T["resettlement"], _T["old_town"], _T["urban_village"],
)


@dataclass(frozen=True)
class SampleSize:
    """How big a district to generate.

    incidents: None (default) gives as many grid events as the safety reports
    imply plus the non-reported categories at their usual rate (35,738 for the
    default size and seed). A number gives exactly that many rows: the
    reconciled categories stay as the reports say and the non-reported ones
    (hazard, environment, public facility, other) make up the rest, spread
    over communities and months in the usual proportions, so the
    reconciliation still holds — e.g. SampleSize(incidents=10_000_000) for a
    load test (about 10 s and 2.3 GB peak). 0 gives no incidents at all (a
    district without a grid system). A positive number below what the reports
    alone require (about 15,000 at the default size) is refused.
    """

    communities: int = 117
    months: int = 24
    residences_per_community: int = 12
    years: int = 3
    incidents: int | None = None


@dataclass(frozen=True)
class _Street:
    name: str
    code: int  # 街道 001–099, 镇 100–199 (as in real township codes)
    communities: int
    mix: tuple[tuple[str, float], ...]
    distance_km: float
    bearing_deg: float
    spread_m: float


_CORE = (("urban", 0.8), ("old_town", 0.2))
_OLD = (("old_town", 0.7), ("urban", 0.3))
_VILLAGE = (("urban_village", 0.6), ("urban", 0.4))
_RESETTLE = (("resettlement", 0.7), ("urban", 0.3))
_TOWN = (("rural", 0.8), ("resettlement", 0.1), ("urban", 0.1))

# 9 街道 (urban core, old town, urban villages, resettlement) and 4 镇: 72 + 45 = 117.
_STREETS: tuple[_Street, ...] = (
    _Street("文昌街道", 1, 9, _CORE, 0.6, 20, 450),
    _Street("中兴街道", 2, 8, _CORE, 1.4, 110, 450),
    _Street("朝阳街道", 3, 8, _CORE, 1.5, 250, 450),
    _Street("古城街道", 4, 9, _OLD, 1.6, 330, 350),
    _Street("东关街道", 5, 8, _OLD, 2.2, 70, 350),
    _Street("西湖街道", 6, 7, _VILLAGE, 3.3, 280, 600),
    _Street("北岗街道", 7, 7, _VILLAGE, 3.6, 0, 600),
    _Street("安居街道", 8, 8, _RESETTLE, 4.8, 160, 650),
    _Street("新港街道", 9, 8, _RESETTLE, 5.2, 200, 650),
    _Street("柳湾镇", 100, 12, _TOWN, 9.5, 45, 2400),
    _Street("青山镇", 101, 11, _TOWN, 11.0, 135, 2400),
    _Street("河口镇", 102, 11, _TOWN, 10.0, 225, 2400),
    _Street("桃源镇", 103, 11, _TOWN, 12.0, 315, 2400),
)
_BLOCK_DEGREES = 0.32  # spacing of replicated blocks when the district grows

_NAME_FIRST = "东西南北新和平安康宁福寿兴华文明光春秋金玉龙凤松柏桃李杏梅竹兰红青翠丰德永泰长乐"
_NAME_SECOND = "园苑庄桥湖山河岗坪店塘湾林泉源里街坊巷楼岭集圩营寨台"

_FUNDING_CATEGORIES = ("office", "party_building", "public_welfare", "facility", "staff",
                       "activity", "other")
_FUNDING_SOURCES = ("fiscal", "co_building", "donation", "service_income", "other")

# facility type → (share of non-rural communities, share of rural ones, max count,
#                  area range m², capacity range or None, name for urban, name for rural)
_FACILITY_PLAN: dict[str, tuple[float, float, int, tuple[float, float],
                                tuple[int, int] | None, str, str]] = {
    "culture": (0.85, 0.75, 1, (40, 200), None, "文化活动室", "农家书屋"),
    "sports": (0.80, 0.65, 1, (200, 1500), None, "健身广场", "健身路径"),
    "elderly_daycare": (0.68, 0.45, 1, (80, 400), (10, 40), "日间照料中心", "养老服务站"),
    "elderly_home": (0.02, 0.10, 1, (600, 3000), (30, 150), "养老院", "敬老院"),
    "health": (0.78, 0.70, 1, (60, 300), None, "卫生服务站", "卫生室"),
    "childcare": (0.30, 0.12, 1, (150, 800), None, "托育园", "幼儿园"),
    "police": (0.80, 0.55, 1, (20, 80), None, "警务室", "警务室"),
    "mediation": (0.50, 0.40, 1, (15, 60), None, "人民调解室", "人民调解室"),
    "public_toilet": (0.60, 0.50, 3, (20, 80), None, "公共厕所", "公共厕所"),
    "waste": (0.70, 0.40, 4, (5, 30), None, "垃圾分类点", "垃圾收集点"),
    "parking": (0.30, 0.10, 2, (300, 3000), None, "停车场", "停车场"),
    "fire": (0.45, 0.30, 1, (15, 60), None, "微型消防站", "微型消防站"),
    "park": (0.40, 0.20, 1, (500, 5000), None, "小游园", "文化广场"),
    "other": (0.10, 0.10, 1, (20, 200), None, "便民服务点", "便民服务点"),
}
_FACILITY_ORDER = ("service_center", *_FACILITY_PLAN)

# Decimal places written for each float column (integers need none).
_DECIMALS: dict[str, int] = {
    "office_area_m2": 1, "area_m2": 1, "lon": 6, "lat": 6,
    "police_hours": 1, "satisfaction_rate": 1, "legal_education_rate": 1,
}


# ----------------------------------------------------------------------------
# helpers


def _scaled(count: float, n: int, minimum: int = 0) -> int:
    """A reference count for 117 communities, scaled to n."""
    return max(minimum, int(round(count * n / BASE_COMMUNITIES)))


def _split_exact(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Split each row total into integer parts ∝ weights (largest remainder)."""
    totals = np.asarray(totals, dtype=np.int64)
    weights = np.asarray(weights, dtype=np.float64)
    sums = weights.sum(axis=1, keepdims=True)
    share = weights / np.where(sums > 0, sums, 1.0) * totals[:, None]
    base = np.floor(share).astype(np.int64)
    remainder = totals - base.sum(axis=1)
    order = np.argsort(-(share - base), axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(order.shape[0])[:, None]
    ranks[rows, order] = np.arange(order.shape[1])[None, :]
    return base + (ranks < remainder[:, None])


def _uniform(rng: np.random.Generator, bounds: np.ndarray) -> np.ndarray:
    """One uniform draw per row of an (n, 2) array of [low, high)."""
    return bounds[:, 0] + rng.random(len(bounds)) * (bounds[:, 1] - bounds[:, 0])


def _nullable_int(values: np.ndarray, missing: np.ndarray | None = None) -> pd.arrays.IntegerArray:
    values = np.asarray(values, dtype=np.int64)
    mask = np.zeros(len(values), dtype=bool) if missing is None else np.asarray(missing, bool)
    return pd.arrays.IntegerArray(values, mask.copy())


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """k distinct members of pool (fewer if the pool is smaller)."""
    k = min(k, len(pool))
    return rng.choice(pool, size=k, replace=False) if k else pool[:0]


def _mask(n: int, chosen: np.ndarray) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[chosen] = True
    return mask


def _offset(lon: np.ndarray, lat: np.ndarray, dist_m: np.ndarray, angle: np.ndarray):
    return (
        lon + dist_m * np.cos(angle) / _M_PER_DEG_LON,
        lat + dist_m * np.sin(angle) / _M_PER_DEG_LAT,
    )


_STR = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' default `str` dtype


def _text(values: np.ndarray | pa.Array,
          index: np.ndarray | None = None) -> pd.api.extensions.ExtensionArray:
    """A string column, optionally values[index], built in Arrow (fast at millions of rows)."""
    array = values if isinstance(values, pa.Array) else pa.array(values, type=pa.string())
    if index is not None:
        array = array.take(pa.array(index, type=pa.int64()))
    return pd.array(array, dtype=_STR)


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise string concatenation of Arrow arrays and literals."""
    return pc.binary_join_element_wise(*parts, "")


def _padded(numbers: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(numbers, type=pa.int64()), pa.string()), width, "0")


def _iso_dates(days: np.ndarray, missing: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Days since 1970-01-01 → 'YYYY-MM-DD' strings, NA where missing."""
    dates = pa.array(days.astype(np.int32), type=pa.date32(), mask=missing)
    return _text(pc.cast(dates, pa.string()))


# ----------------------------------------------------------------------------
# communities


def _street_layout(n: int) -> pd.DataFrame:
    """One row per street: name, code, kind, template index, block, community count."""
    blocks = max(1, math.ceil(n / BASE_COMMUNITIES))
    template = np.array([s.communities for s in _STREETS], dtype=np.float64)
    weights = np.tile(template, blocks)[None, :]
    counts = _split_exact(np.array([n]), weights)[0]
    rows = []
    for b in range(blocks):
        for k, street in enumerate(_STREETS):
            count = int(counts[b * len(_STREETS) + k])
            if count == 0:
                continue
            suffix = "镇" if street.name.endswith("镇") else "街道"
            name = street.name if b == 0 else f"{street.name[: -len(suffix)]}{b + 1}{suffix}"
            rows.append((name, b * 200 + street.code, k, b, count))
    return pd.DataFrame(rows, columns=["street", "code", "template", "block", "count"])


def _block_centres(blocks: int) -> tuple[np.ndarray, np.ndarray]:
    side = math.ceil(math.sqrt(blocks))
    index = np.arange(blocks)
    col, row = index % side, index // side
    shift = (side - 1) / 2
    return (
        CENTRE_LON + (col - shift) * _BLOCK_DEGREES,
        CENTRE_LAT + (row - shift) * _BLOCK_DEGREES,
    )


def _community_names(rng: np.random.Generator, n: int, rural: np.ndarray) -> np.ndarray:
    pool = np.array([a + b for a in _NAME_FIRST for b in _NAME_SECOND], dtype=object)
    pool = pool[rng.permutation(len(pool))]
    stems = pool[np.arange(n) % len(pool)]
    rounds = np.arange(n) // len(pool)
    suffix = np.where(rural, "村", "社区")
    return np.array(
        [s + (str(r + 1) if r else "") + x for s, r, x in zip(stems, rounds, suffix, strict=True)],
        dtype=object,
    )


def _communities(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    streets = _street_layout(n)
    s_of_c = np.repeat(np.arange(len(streets)), streets["count"].to_numpy())
    tpl = streets["template"].to_numpy()[s_of_c]
    count = streets["count"].to_numpy()[s_of_c]
    starts = np.repeat(np.cumsum(streets["count"].to_numpy()) - streets["count"].to_numpy(),
                       streets["count"].to_numpy())
    position = np.arange(n) - starts

    # Community types: the street's mix, rounded to whole communities, then shuffled.
    mix = np.zeros((len(_STREETS), len(TYPE_CODES)))
    for k, street in enumerate(_STREETS):
        for code, share in street.mix:
            mix[k, _T[code]] = share
    cumulative = np.cumsum(mix, axis=1)
    quantile = (position + 0.5) / count
    ordered_type = np.minimum((quantile[:, None] >= cumulative[tpl]).sum(axis=1),
                              len(TYPE_CODES) - 1)
    order = np.lexsort((rng.random(n), s_of_c))
    ctype = ordered_type[order]  # shuffled within each street, streets stay in order
    rural = ctype == RURAL

    codes = streets["code"].to_numpy()
    width = max(3, len(str(int(codes.max()))))
    community_id = np.array(
        [f"{DISTRICT_CODE}{c:0{width}d}{p + 1:03d}"
         for c, p in zip(codes[s_of_c].tolist(), position.tolist(), strict=True)],
        dtype=object,
    )
    names = _community_names(rng, n, rural)

    # Households and people.
    hh_bounds = np.array([[1500, 4500], [400, 1300], [1500, 5000], [1200, 4000], [900, 3000]],
                         dtype=np.float64)[ctype]
    households = np.round(_uniform(rng, hh_bounds)).astype(np.int64)
    population = np.round(households * rng.uniform(2.4, 3.0, n)).astype(np.int64)
    elderly_share = rng.uniform(0.15, 0.25, n)
    elderly_share[ctype == OLD_TOWN] = np.minimum(elderly_share[ctype == OLD_TOWN] + 0.03, 0.25)
    elderly = np.round(population * elderly_share).astype(np.int64)
    float_bounds = np.array([[0.05, 0.15], [0.01, 0.05], [0.03, 0.10], [0.04, 0.12],
                             [0.15, 0.40]])[ctype]
    floating = np.round(population * _uniform(rng, float_bounds)).astype(np.int64)
    low_bounds = np.array([[0.008, 0.025], [0.02, 0.05], [0.02, 0.045], [0.03, 0.06],
                           [0.015, 0.04]])[ctype]
    low_income = np.round(households * _uniform(rng, low_bounds)).astype(np.int64)

    # Office and activity space (001): 3 above 1,000 m², 16 above 600 m², most about 300.
    area = np.empty(n)
    normal = np.clip(rng.normal(300, 35, n), 230, 480)
    area[:] = normal
    old = np.isin(ctype, (OLD_TOWN, URBAN_VILLAGE))
    cramped = old & (rng.random(n) < 0.35)
    area[old] = np.clip(rng.normal(285, 40, n), 200, 480)[old]
    area[cramped] = rng.uniform(60, 200, n)[cramped]
    area[rural] = rng.uniform(80, 300, n)[rural]
    k_big = _scaled(OFFICE_OVER_1000, n)
    k_large = _scaled(OFFICE_OVER_600, n)
    roomy = np.flatnonzero(np.isin(ctype, (URBAN, RESETTLEMENT)))
    chosen = _pick(rng, roomy, k_large)
    area[chosen[:k_big]] = rng.uniform(1020, 1600, len(chosen[:k_big]))
    area[chosen[k_big:]] = rng.uniform(620, 980, len(chosen[k_big:]))
    area = np.round(area, 1)

    # Workers (001: 生活补贴平均在2000元左右) and committees (003: 5/7/9 by households).
    staff = np.where(
        rural,
        rng.integers(4, 9, n),
        np.clip(np.round(5 + households / 4500 * 8 + rng.normal(0, 1.5, n)), 6, 15),
    ).astype(np.int64)
    certified = rng.binomial(staff, rng.uniform(0.08, 0.45, n)).astype(np.int64)
    pay = np.where(rural, rng.normal(1880, 80, n), rng.normal(2030, 150, n))
    pay = (np.round(np.clip(pay, 1800, 2600) / 10) * 10).astype(np.int64)
    required = np.where(households <= 1000, 5, np.where(households <= 3000, 7, 9))
    draw = rng.random(n)
    short = np.where(draw < 0.12, 1, np.where(draw < 0.2, 2, 0))
    committee = np.clip(required - short, 3, 9).astype(np.int64)

    # Coordinates: clustered by street; blocks repeat the layout when the district grows.
    blocks = int(streets["block"].max()) + 1
    block_lon, block_lat = _block_centres(blocks)
    b_of_c = streets["block"].to_numpy()[s_of_c]
    dist = np.array([s.distance_km for s in _STREETS])[tpl] * 1000
    bearing = np.radians(np.array([s.bearing_deg for s in _STREETS])[tpl])
    street_lon, street_lat = _offset(block_lon[b_of_c], block_lat[b_of_c], dist,
                                     np.pi / 2 - bearing)
    spread = np.array([s.spread_m for s in _STREETS])[tpl]
    lon = street_lon + rng.normal(0, 1, n) * spread / _M_PER_DEG_LON
    lat = street_lat + rng.normal(0, 1, n) * spread / _M_PER_DEG_LAT
    lon, lat = np.round(lon, 6), np.round(lat, 6)

    # A few gaps, so no_data cases exist.
    no_coords = _mask(n, _pick(rng, np.arange(n), _scaled(3, n, 1 if n >= 10 else 0)))
    lon[no_coords] = np.nan
    lat[no_coords] = np.nan

    def gaps(k: int) -> np.ndarray:
        return _mask(n, _pick(rng, np.arange(n), _scaled(k, n, 1 if n >= 20 else 0)))

    no_volunteers = gaps(2)
    reported = np.flatnonzero(~no_volunteers)
    volunteer_weights = population[reported] * np.where(rural[reported], 0.5, 1.0) * \
        rng.lognormal(0, 0.5, len(reported))
    volunteers = np.zeros(n, dtype=np.int64)
    if len(reported):
        volunteers[reported] = _split_exact(
            np.array([_scaled(VOLUNTEERS_TOTAL, n)]), volunteer_weights[None, :]
        )[0]

    frame = pd.DataFrame({
        "community_id": community_id,
        "community_name": names,
        "street": streets["street"].to_numpy()[s_of_c],
        "district": DISTRICT_NAME,
        "community_type": np.array(TYPE_CODES, dtype=object)[ctype],
        "households": households,
        "population": population,
        "elderly_population": _nullable_int(elderly, gaps(2)),
        "floating_population": _nullable_int(floating, gaps(2)),
        "low_income_households": _nullable_int(low_income, gaps(1)),
        "office_area_m2": area,
        "staff_count": _nullable_int(staff),
        "certified_social_workers": _nullable_int(certified, gaps(1)),
        "staff_avg_monthly_pay": _nullable_int(pay, gaps(2)),
        "committee_members": _nullable_int(committee, gaps(1)),
        "volunteers": _nullable_int(volunteers, no_volunteers),
        "lon": lon,
        "lat": lat,
    })
    context = {
        "ctype": ctype,
        "street_index": s_of_c,
        "households": households,
        "population": population,
        "office_area": area,
        "ids": pa.array(community_id, type=pa.string()),
        "names": pa.array(names, type=pa.string()),
        "lon": lon,
        "lat": lat,
        "certified": np.where(frame["certified_social_workers"].isna(), 0, certified),
    }
    return frame, context


# ----------------------------------------------------------------------------
# facilities


def _facilities(rng: np.random.Generator, communities: pd.DataFrame,
                ctx: dict[str, np.ndarray]) -> pd.DataFrame:
    n = len(communities)
    rural = ctx["ctype"] == RURAL
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    # Service centres: nearly everywhere, but coverage is imperfect on purpose.
    k_gap = _scaled(4, n, 1 if n >= 10 else 0)
    picked = _pick(rng, np.arange(n), 2 * k_gap)
    has_centre = ~_mask(n, picked[:k_gap])
    status = np.full(n, "in_use", dtype=object)
    status[picked[k_gap:]] = rng.choice(["planned", "building", "closed"], len(picked[k_gap:]))
    owners = np.flatnonzero(has_centre)
    area = ctx["office_area"][owners] * rng.uniform(0.6, 1.0, len(owners))
    parts.append((
        owners, np.zeros(len(owners), np.int64), np.ones(len(owners), np.int64),
        np.round(area, 1), np.full(len(owners), -1, np.int64), status[owners],
    ))

    statuses = np.array(["in_use", "building", "planned", "closed"], dtype=object)
    for t, (p_urban, p_rural, most, (lo, hi), cap, _, _) in enumerate(_FACILITY_PLAN.values(),
                                                                       start=1):
        present = rng.random(n) < np.where(rural, p_rural, p_urban)
        counts = np.where(present, rng.integers(1, most + 1, n), 0)
        owners = np.repeat(np.arange(n), counts)
        m = len(owners)
        seq = np.arange(m) - np.repeat(np.cumsum(counts) - counts, counts) + 1
        area = np.round(rng.uniform(lo, hi, m), 1)
        capacity = rng.integers(cap[0], cap[1] + 1, m) if cap else np.full(m, -1, np.int64)
        status = statuses[np.searchsorted([0.90, 0.93, 0.96], rng.random(m), side="right")]
        parts.append((owners, np.full(m, t, np.int64), seq, area, capacity, status))

    owner = np.concatenate([p[0] for p in parts])
    ftype = np.concatenate([p[1] for p in parts])
    seq = np.concatenate([p[2] for p in parts])
    area = np.concatenate([p[3] for p in parts])
    capacity = np.concatenate([p[4] for p in parts])
    status = np.concatenate([p[5] for p in parts])
    order = np.lexsort((seq, ftype, owner))
    owner, ftype, seq, area, capacity, status = (
        a[order] for a in (owner, ftype, seq, area, capacity, status)
    )
    m = len(owner)
    counts = np.bincount(owner, minlength=n)
    number = np.arange(m) - np.repeat(np.cumsum(counts) - counts, counts) + 1

    owner_index = pa.array(owner, type=pa.int64())
    community_id = ctx["ids"].take(owner_index)
    facility_id = _join(community_id, "-F", _padded(number, 2))
    urban_names = ["党群服务中心"] + [p[5] for p in _FACILITY_PLAN.values()]
    rural_names = ["党群服务中心"] + [p[6] for p in _FACILITY_PLAN.values()]
    kinds = pa.array(urban_names + rural_names, type=pa.string())
    kind = kinds.take(pa.array(ftype + np.where(rural[owner], len(urban_names), 0)))
    numbered = pc.if_else(pa.array(seq > 1), _join(_padded(seq, 1), "号"), "")
    names = _join(ctx["names"].take(owner_index), kind, numbered)
    lon, lat = _offset(ctx["lon"][owner], ctx["lat"][owner], rng.uniform(30, 450, m),
                       rng.uniform(0, 2 * np.pi, m))
    no_area = rng.random(m) < 0.03
    return pd.DataFrame({
        "facility_id": _text(facility_id),
        "community_id": _text(community_id),
        "facility_type": _text(np.array(_FACILITY_ORDER, dtype=object), ftype),
        "facility_name": _text(names),
        "area_m2": np.where(no_area, np.nan, area),
        "capacity": _nullable_int(np.maximum(capacity, 0), capacity < 0),
        "status": _text(status),
        "lon": np.round(lon, 6),
        "lat": np.round(lat, 6),
    })


# ----------------------------------------------------------------------------
# funding


def _funding(rng: np.random.Generator, communities: pd.DataFrame,
             ctx: dict[str, np.ndarray], years: int) -> pd.DataFrame:
    n = len(communities)
    rural = ctx["ctype"] == RURAL
    cat = {c: i for i, c in enumerate(_FUNDING_CATEGORIES)}
    src = {s: i for i, s in enumerate(_FUNDING_SOURCES)}
    # Some streets pass money on more slowly than others (001: 拨付较为滞后).
    n_streets = int(ctx["street_index"].max()) + 1 if n else 0
    street_late = rng.uniform(0.25, 0.65, n_streets)

    owners, year_col, category, source, amount = [], [], [], [], []

    def add(who: np.ndarray, year: int, c: str, src_idx: np.ndarray, yuan: np.ndarray) -> None:
        owners.append(who)
        year_col.append(np.full(len(who), year, np.int64))
        category.append(np.full(len(who), cat[c], np.int64))
        source.append(np.asarray(src_idx, np.int64))
        amount.append(np.asarray(yuan, np.int64))

    def sources(m: int, shares: dict[str, float]) -> np.ndarray:
        keys = list(shares)
        probs = np.array([shares[k] for k in keys])
        return np.array([src[k] for k in keys])[rng.choice(len(keys), m, p=probs / probs.sum())]

    everyone = np.arange(n)
    first_year = LATEST_YEAR - years + 1
    for year in range(first_year, LATEST_YEAR + 1):
        # 001: 每个社区安排办公经费2.5万元, 党建经费10万元 — a few get less or nothing.
        for c, yuan, less, k_missing, k_less in (
            ("office", OFFICE_FUND_YUAN, (15_000, 20_000), 2, 3),
            ("party_building", PARTY_FUND_YUAN, (50_000, 80_000), 1, 3),
        ):
            lucky = _pick(rng, everyone, _scaled(k_missing + k_less, n))
            missing = lucky[: _scaled(k_missing, n)]
            who = everyone[~_mask(n, missing)]
            value = np.full(n, yuan, np.int64)
            cut = lucky[_scaled(k_missing, n):]
            value[cut] = rng.choice(less, len(cut))
            add(who, year, c, np.full(len(who), src["fiscal"]), value[who])
        # 000: 公益创投 100万元/年, spread over a subset of communities.
        projects = _pick(rng, everyone, _scaled(PUBLIC_WELFARE_PROJECTS, n, 1 if n else 0))
        if len(projects):
            total_units = _scaled(PUBLIC_WELFARE_YUAN, n) // 1000
            units = _split_exact(np.array([total_units]),
                                 rng.uniform(0.5, 1.5, len(projects))[None, :])[0]
            add(np.sort(projects), year, "public_welfare",
                np.full(len(projects), src["fiscal"]), units * 1000)
        who = everyone[rng.random(n) < 0.7]
        add(who, year, "activity",
            sources(len(who), {"fiscal": 0.6, "co_building": 0.25, "donation": 0.1,
                               "service_income": 0.05}),
            rng.integers(5, 31, len(who)) * 1000)
        who = everyone[rng.random(n) < 0.12]
        add(who, year, "facility", sources(len(who), {"fiscal": 0.85, "co_building": 0.15}),
            rng.integers(5, 41, len(who)) * 10_000)
        # 000: 社会工作师 allowances of 100/200/300 元/月 per certified worker.
        cert = ctx["certified"]
        who = everyone[cert > 0]
        levels = cert[who] + rng.binomial(cert[who], 0.4) + rng.binomial(cert[who], 0.15)
        add(who, year, "staff", np.full(len(who), src["fiscal"]), levels * 100 * 12)
        who = everyone[rng.random(n) < np.where(rural, 0.12, 0.3)]
        add(who, year, "other",
            sources(len(who), {"service_income": 0.4, "donation": 0.3, "co_building": 0.2,
                               "other": 0.1}),
            rng.integers(4, 41, len(who)) * 500)

    owner = np.concatenate(owners) if owners else np.zeros(0, np.int64)
    year_arr = np.concatenate(year_col) if year_col else np.zeros(0, np.int64)
    cat_arr = np.concatenate(category) if category else np.zeros(0, np.int64)
    src_arr = np.concatenate(source) if source else np.zeros(0, np.int64)
    yuan = np.concatenate(amount) if amount else np.zeros(0, np.int64)
    order = np.lexsort((cat_arr, owner, year_arr))
    owner, year_arr, cat_arr, src_arr, yuan = (
        a[order] for a in (owner, year_arr, cat_arr, src_arr, yuan)
    )
    m = len(owner)

    # Dates: regular lines are allocated early in the year, the rest through October.
    jan1 = (year_arr - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    regular = np.isin(cat_arr, (cat["office"], cat["party_building"]))
    allocated = jan1 + np.where(regular, rng.integers(14, 120, m), rng.integers(31, 304, m))
    late = rng.random(m) < street_late[ctx["street_index"][owner]] if m else np.zeros(0, bool)
    delay = np.where(late, rng.integers(31, 151, m), rng.integers(3, 31, m))
    never = rng.random(m) < 0.03
    disbursed = allocated + delay
    as_of = np.datetime64(DATA_AS_OF, "D").astype(np.int64)
    no_disbursed = never | (disbursed > as_of)
    no_allocated = rng.random(m) < 0.01
    return pd.DataFrame({
        "community_id": _text(ctx["ids"], owner),
        "year": year_arr,
        "category": _text(np.array(_FUNDING_CATEGORIES, dtype=object), cat_arr),
        "source": _text(np.array(_FUNDING_SOURCES, dtype=object), src_arr),
        "amount_yuan": yuan,
        "allocated_date": _iso_dates(allocated, no_allocated),
        "disbursed_date": _iso_dates(disbursed, no_disbursed),
    })


# ----------------------------------------------------------------------------
# safety


def _safety(rng: np.random.Generator, communities: pd.DataFrame,
            ctx: dict[str, np.ndarray], months: int) -> pd.DataFrame:
    n = len(communities)
    total = n * months
    scale = total / (BASE_COMMUNITIES * 24)
    c = np.repeat(np.arange(n), months)
    first = LATEST_MONTH.year * 12 + LATEST_MONTH.month - 1 - (months - 1)
    labels = np.array([f"{(first + i) // 12:04d}-{(first + i) % 12 + 1:02d}"
                       for i in range(months)], dtype=object)

    def per_community(low: float, high: float) -> np.ndarray:
        return rng.uniform(low, high, n)[c]

    size = (ctx["population"] / 9000.0)[c]
    received = rng.poisson(per_community(3, 12))
    mediated = received - rng.binomial(received, per_community(0.0, 0.05))
    resolved = rng.binomial(mediated, per_community(0.85, 0.98))
    criminal = rng.poisson(per_community(0.1, 1.2) * np.clip(size, 0.3, 2.0))
    public_order = rng.poisson(per_community(0.3, 3.0) * np.clip(size, 0.3, 2.0))
    fire = rng.poisson(per_community(0.02, 0.2))
    petitions = rng.poisson(per_community(0.2, 2.5))

    # 002: 社区无重大刑事案件, 无群体性闹事事件 — a handful of exceptions.
    major = np.zeros(total, np.int64)
    major[_pick(rng, np.flatnonzero(criminal > 0), _scaled(5, BASE_COMMUNITIES * scale))] = 1
    mass = np.zeros(total, np.int64)
    mass[_pick(rng, np.arange(total), _scaled(3, BASE_COMMUNITIES * scale))] = 1

    base_subjects = rng.choice(7, n, p=[0.2, 0.22, 0.2, 0.15, 0.1, 0.08, 0.05])[c]
    subjects = np.clip(base_subjects + rng.integers(-1, 2, total), 0, 6)
    reoffenders = np.zeros(total, np.int64)
    reoffenders[_pick(rng, np.flatnonzero(subjects > 0),
                      _scaled(4, BASE_COMMUNITIES * scale))] = 1

    police = np.clip(per_community(15, 45) + rng.normal(0, 4, total), 5, 60)
    police = np.round(police * 2) / 2
    satisfaction = np.round(np.clip(per_community(88, 99.5) + rng.normal(0, 0.6, total),
                                    88, 99.5), 1)
    legal = np.round(np.clip(per_community(90, 100.8) + rng.normal(0, 0.5, total), 90, 100), 1)

    def missing() -> np.ndarray:
        return rng.random(total) < 0.006

    miss_received = missing()
    miss_mediated = missing() | miss_received
    miss_resolved = missing() | miss_mediated
    miss_criminal = missing()
    miss_major = missing() | miss_criminal
    miss_subjects = missing()
    miss_reoffenders = missing() | miss_subjects
    miss_public_order, miss_fire, miss_mass, miss_petitions = (missing() for _ in range(4))
    miss_police, miss_satisfaction, miss_legal = (missing() for _ in range(3))
    # Occasionally a community skips a whole month's report.
    keep = ~_mask(total, _pick(rng, np.arange(total), _scaled(6, BASE_COMMUNITIES * scale)))

    def counts(values: np.ndarray, miss: np.ndarray) -> pd.arrays.IntegerArray:
        return _nullable_int(values[keep], miss[keep])

    def measure(values: np.ndarray, miss: np.ndarray) -> np.ndarray:
        return np.where(miss, np.nan, values)[keep]

    month_index = np.tile(np.arange(months), n)
    return pd.DataFrame({
        "community_id": _text(ctx["ids"], c[keep]),
        "month": _text(labels, month_index[keep]),
        "criminal_cases": counts(criminal, miss_criminal),
        "major_criminal_cases": counts(major, miss_major),
        "public_order_cases": counts(public_order, miss_public_order),
        "fire_incidents": counts(fire, miss_fire),
        "disputes_received": counts(received, miss_received),
        "disputes_mediated": counts(mediated, miss_mediated),
        "disputes_resolved": counts(resolved, miss_resolved),
        "mass_incidents": counts(mass, miss_mass),
        "petitions": counts(petitions, miss_petitions),
        "correction_subjects": counts(subjects, miss_subjects),
        "reoffenders": counts(reoffenders, miss_reoffenders),
        "police_hours": measure(police, miss_police),
        "satisfaction_rate": measure(satisfaction, miss_satisfaction),
        "legal_education_rate": measure(legal, miss_legal),
    })


# ----------------------------------------------------------------------------
# residences


def _residences(rng: np.random.Generator, communities: pd.DataFrame,
                ctx: dict[str, np.ndarray], per_community: int) -> pd.DataFrame:
    located = np.flatnonzero(~np.isnan(ctx["lon"]))
    k, r = len(located), per_community
    if k == 0 or r <= 0:
        return pd.DataFrame({
            "residence_id": pd.Series([], dtype=_STR),
            "community_id": pd.Series([], dtype=_STR),
            "households": pd.Series([], dtype=np.int64),
            "population": pd.Series([], dtype=np.int64),
            "lon": pd.Series([], dtype=np.float64),
            "lat": pd.Series([], dtype=np.float64),
        })
    households = _split_exact(ctx["households"][located], rng.gamma(2.0, 1.0, (k, r)))
    people = _split_exact(ctx["population"][located],
                          (households + 0.01) * rng.uniform(0.9, 1.1, (k, r)))
    owner = np.repeat(located, r)
    lon, lat = _offset(ctx["lon"][owner], ctx["lat"][owner], rng.uniform(100, 700, k * r),
                       rng.uniform(0, 2 * np.pi, k * r))
    community_id = ctx["ids"].take(pa.array(owner, type=pa.int64()))
    number = np.tile(np.arange(1, r + 1), k)
    return pd.DataFrame({
        "residence_id": _text(_join(community_id, "-R", _padded(number, max(2, len(str(r)))))),
        "community_id": _text(community_id),
        "households": households.ravel(),
        "population": people.ravel(),
        "lon": np.round(lon, 6),
        "lat": np.round(lat, 6),
    })


# ----------------------------------------------------------------------------
# incidents (网格事件)

# The grid system went live this many months before (and including) the latest
# report month; earlier months have reports but no events.
GRID_LIVE_MONTHS = 12
# The export the events come from was taken at the end of the latest month:
# anything whose resolution would fall later is still open.
INCIDENTS_AS_OF = date(LATEST_MONTH.year + LATEST_MONTH.month // 12, LATEST_MONTH.month % 12 + 1, 1)
# Deliberate disagreements with the reports (an extra or a missing event in one
# category of one community-month) per 117 communities, so the reconciliation
# view has something to show.
INCIDENT_DISCREPANCIES = 5

_INCIDENT_STREAM = 1  # child-seed key: the grid events' own random stream
_CATEGORIES = tuple(c.code for c in INCIDENT_CATEGORY.codes)
_SEVERITIES = tuple(c.code for c in INCIDENT_SEVERITY.codes)
_STATUSES = tuple(c.code for c in INCIDENT_STATUS.codes)
_REPORTED = tuple(INCIDENT_REPORT_COLUMNS)  # categories the monthly report counts
_UNREPORTED = tuple(c for c in _CATEGORIES if c not in INCIDENT_REPORT_COLUMNS)
_GENERAL, _SERIOUS, _MAJOR = (_SEVERITIES.index(s) for s in ("general", "serious", "major"))
_REPORTED_ST, _IN_PROGRESS, _RESOLVED = (
    _STATUSES.index(s) for s in ("reported", "in_progress", "resolved")
)
_CRIMINAL = _CATEGORIES.index("criminal")

# category → (median hours to 办结, lognormal sigma, share serious, share major,
#             share left open for months — the old backlog)
_INCIDENT_PLAN: dict[str, tuple[float, float, float, float, float]] = {
    "criminal": (120, 0.9, 0.35, 0.0, 0.002),  # major: exactly as reported
    "public_order": (36, 1.0, 0.10, 0.0, 0.001),
    "fire": (6, 0.8, 0.20, 0.0, 0.0),
    "dispute": (72, 1.0, 0.05, 0.0, 0.006),
    "mass_incident": (48, 0.7, 0.90, 0.10, 0.0),
    "petition": (240, 0.6, 0.05, 0.0, 0.01),
    "hazard": (10, 1.0, 0.10, 0.0, 0.004),
    "environment": (5, 0.9, 0.02, 0.0, 0.001),
    "public_facility": (60, 1.0, 0.05, 0.0, 0.006),
    "other": (12, 1.1, 0.02, 0.0, 0.002),
}
# Non-reported events per community-month at 2,000 households, and their mix;
# the majority of what a grid logs (巡查上报的隐患、环境、设施问题).
_UNREPORTED_RATE = 13.0
_UNREPORTED_SHARE = {"hazard": 0.30, "environment": 0.40, "public_facility": 0.20, "other": 0.10}
# Seasonal factor by calendar month (Jan … Dec): hazards (heating, fireworks) in
# winter, environment complaints in summer.
_SEASON = {
    "hazard": (1.3, 1.3, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.1, 1.3),
    "environment": (0.8, 0.8, 0.9, 1.0, 1.1, 1.3, 1.4, 1.4, 1.1, 1.0, 0.9, 0.8),
    "public_facility": (1.0,) * 12,
    "other": (1.0,) * 12,
}


def _empty_incidents() -> pd.DataFrame:
    return pd.DataFrame({
        name: pd.Series([], dtype=np.float64 if name in ("lon", "lat") else _STR)
        for name in TABLES["incidents"].column_names
    })


def _report_grid(safety: pd.DataFrame, ids: pa.Array, labels: list[str]) -> dict[str, np.ndarray]:
    """Each reconciled report column as an (n communities, len(labels)) float array,
    NaN where the value is missing or the month has no report."""
    n, w = len(ids), len(labels)
    c = pd.Index(ids.to_numpy(zero_copy_only=False)).get_indexer(safety["community_id"])
    m = pd.Index(labels).get_indexer(safety["month"])
    rows = (c >= 0) & (m >= 0)
    grid = {}
    for column in (*INCIDENT_REPORT_COLUMNS.values(), "major_criminal_cases"):
        values = np.full((n, w), np.nan)
        values[c[rows], m[rows]] = safety[column].to_numpy(dtype=np.float64, na_value=np.nan)[rows]
        grid[column] = values
    return grid


def _plausible(rng: np.random.Generator, reported: np.ndarray) -> np.ndarray:
    """The reported counts, with each gap filled by a Poisson draw around the
    community's own mean (the district mean when it reported nothing)."""
    known = ~np.isnan(reported)
    sums = np.where(known, reported, 0.0).sum(axis=1)
    seen = known.sum(axis=1)
    overall = sums.sum() / max(seen.sum(), 1)
    mean = np.where(seen > 0, sums / np.maximum(seen, 1), overall)
    fill = rng.poisson(np.broadcast_to(mean[:, None], reported.shape))
    return np.where(known, np.nan_to_num(reported), fill).astype(np.int64)


def _incidents(rng: np.random.Generator, ctx: dict[str, np.ndarray], safety: pd.DataFrame,
               residences: pd.DataFrame, months: int, wanted: int | None) -> pd.DataFrame:
    """Grid events that reconcile with the safety reports of the live months.

    For every community-month of the last GRID_LIVE_MONTHS months, each reported
    category (INCIDENT_REPORT_COLUMNS) has as many events as the report column
    says, and exactly major_criminal_cases of the criminal ones are 'major' —
    except INCIDENT_DISCREPANCIES (scaled) cells, each one event more or fewer,
    in distinct community-months. Where the report is missing any plausible
    count is used. Non-reported categories come on top (most of the events).
    """
    n = len(ctx["households"])
    w = min(GRID_LIVE_MONTHS, months)
    if n == 0 or wanted == 0:
        return _empty_incidents()
    last = LATEST_MONTH.year * 12 + LATEST_MONTH.month - 1
    month_numbers = np.arange(last - w + 1, last + 1)  # months since year 0
    labels = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in month_numbers]
    starts = np.array(labels, dtype="datetime64[M]")
    month_start = starts.astype("datetime64[s]").astype(np.int64)
    month_seconds = (starts + 1).astype("datetime64[s]").astype(np.int64) - month_start
    calendar = month_numbers % 12

    # Reconciled categories: as reported, gaps filled plausibly.
    grid = _report_grid(safety, ctx["ids"], labels)
    k_cat = len(_CATEGORIES)
    counts = np.zeros((n, w, k_cat), np.int64)
    present = np.zeros((n, w, len(_REPORTED)), bool)
    for j, category in enumerate(_REPORTED):
        reported = grid[INCIDENT_REPORT_COLUMNS[category]]
        present[:, :, j] = ~np.isnan(reported)
        counts[:, :, _CATEGORIES.index(category)] = _plausible(rng, reported)
    major_reported = grid["major_criminal_cases"]
    major = np.where(np.isnan(major_reported), 0, np.nan_to_num(major_reported)).astype(np.int64)
    major = np.minimum(major, counts[:, :, _CRIMINAL])

    # Seeded discrepancies: one cell each in distinct community-months, half of
    # them an extra event, half a missing one (never a major criminal one).
    k_bad = _scaled(INCIDENT_DISCREPANCIES, n, 1 if n >= 20 else 0)
    cells = _pick(rng, np.flatnonzero(present.any(axis=2).ravel()), k_bad)
    signs = rng.permutation(np.where(np.arange(len(cells)) % 2 == 0, 1, -1))
    cm_c, cm_w = np.divmod(cells, w)
    reported_idx = np.array([_CATEGORIES.index(c) for c in _REPORTED])
    removable = counts[cm_c, cm_w][:, reported_idx] > 0
    removable[:, _REPORTED.index("criminal")] = (
        counts[cm_c, cm_w, _CRIMINAL] - major[cm_c, cm_w] > 0
    )
    allowed = present[cm_c, cm_w] & np.where(signs[:, None] < 0, removable, True)
    signs = np.where(allowed.any(axis=1), signs, 1)
    allowed = np.where(allowed.any(axis=1)[:, None], allowed, present[cm_c, cm_w])
    column = np.argmax(np.where(allowed, rng.random(allowed.shape) + 1, 0), axis=1)
    counts[cm_c, cm_w, reported_idx[column]] += signs

    # Non-reported categories: ∝ households, a per-community logging habit, season.
    activity = np.clip(ctx["households"] / 2000.0, 0.3, 2.5) * rng.lognormal(0, 0.3, n)
    unreported_idx = np.array([_CATEGORIES.index(c) for c in _UNREPORTED])
    rate = np.stack([
        _UNREPORTED_RATE * _UNREPORTED_SHARE[c] * np.array(_SEASON[c])[calendar]
        for c in _UNREPORTED
    ], axis=1)  # (w, 4)
    mean = activity[:, None, None] * rate[None, :, :]
    if wanted is None:
        counts[:, :, unreported_idx] = rng.poisson(mean)
    else:
        rest = wanted - int(counts.sum())
        if rest < 0:
            raise ValueError(f"SampleSize.incidents={wanted:,} is below the {wanted - rest:,} "
                             "events the safety reports require")
        p = mean.ravel() / mean.sum()
        counts[:, :, unreported_idx] = rng.multinomial(rest, p).reshape(mean.shape)
    del mean, grid

    # One row per event, grouped by (community, month, category).
    flat = counts.ravel()
    total = int(flat.sum())
    group = np.repeat(np.arange(flat.size, dtype=np.int64), flat)
    cm, cat = np.divmod(group, k_cat)
    owner, month = np.divmod(cm, w)
    cat = cat.astype(np.int8)
    rank = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(flat) - flat, flat)
    del group, flat

    plan = np.array([_INCIDENT_PLAN[c] for c in _CATEGORIES])  # (10, 5)
    severity = np.full(total, _GENERAL, np.int8)
    draw = rng.random(total)
    severity[draw < plan[cat, 2] + plan[cat, 3]] = _SERIOUS
    severity[draw < plan[cat, 3]] = _MAJOR
    severity[(cat == _CRIMINAL) & (rank < major.ravel()[cm])] = _MAJOR
    del draw, rank

    offset = (rng.random(total) * month_seconds[month]).astype(np.int64)
    occurred = month_start[month] + offset
    hours = rng.lognormal(np.log(plan[cat, 0]), plan[cat, 1])
    resolved = occurred + np.maximum(60, np.round(hours * 3600)).astype(np.int64)
    del hours
    as_of = np.datetime64(INCIDENTS_AS_OF, "s").astype(np.int64)
    backlog = (month < w - 1) & (rng.random(total) < plan[cat, 4])
    still_open = (resolved >= as_of) | backlog
    status = np.where(still_open, np.where(rng.random(total) < 0.25, _REPORTED_ST, _IN_PROGRESS),
                      _RESOLVED).astype(np.int8)
    del backlog

    # Coordinates: near one of the community's buildings, or anywhere within
    # 700 m of its centre (roads, squares); ~2 % not located.
    lon0, lat0 = ctx["lon"][owner], ctx["lat"][owner]
    near_building = rng.random(total) < 0.8
    dist = np.where(near_building, np.abs(rng.normal(0, 25, total)),
                    700 * np.sqrt(rng.random(total)))
    near_building &= ~np.isnan(lon0)
    r = len(residences) // max(1, int((~np.isnan(ctx["lon"])).sum()))
    if r:
        slot = np.cumsum(~np.isnan(ctx["lon"])) - 1  # community → its block of residences
        pick = np.where(near_building, slot[owner] * r + rng.integers(0, r, total), 0)
        lon0 = np.where(near_building, residences["lon"].to_numpy()[pick], lon0)
        lat0 = np.where(near_building, residences["lat"].to_numpy()[pick], lat0)
        del pick
    lon, lat = _offset(lon0, lat0, dist, rng.uniform(0, 2 * np.pi, total))
    unlocated = rng.random(total) < 0.02
    lon[unlocated] = np.nan
    lat[unlocated] = np.nan
    del lon0, lat0, dist, near_building, unlocated

    # Community order, then time; numbered per community.
    order = np.argsort((owner << 32) | (occurred - month_start[0]), kind="stable")
    owner, occurred, resolved = owner[order], occurred[order], resolved[order]
    cat, severity, status = cat[order], severity[order], status[order]
    lon, lat = np.round(lon[order], 6), np.round(lat[order], 6)
    del order, month, offset, cm
    per_owner = np.bincount(owner, minlength=n)
    number = np.arange(1, total + 1, dtype=np.int64) - np.repeat(np.cumsum(per_owner) - per_owner,
                                                                 per_owner)
    community_id = ctx["ids"].take(pa.array(owner, type=pa.int64()))
    width = max(6, len(str(int(per_owner.max()))))
    incident_id = _join("SJ", community_id, "-", _padded(number, width))
    del number, owner

    def stamps(seconds: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
        array = pa.array(seconds, type=pa.timestamp("s"), mask=missing)
        return pc.cast(array, pa.string())

    return pd.DataFrame({
        "incident_id": _text(incident_id),
        "community_id": _text(community_id),
        "occurred_at": _text(stamps(occurred)),
        "category": _text(np.array(_CATEGORIES, dtype=object), cat),
        "severity": _text(np.array(_SEVERITIES, dtype=object), severity),
        "status": _text(np.array(_STATUSES, dtype=object), status),
        "resolved_at": _text(stamps(resolved, status != _RESOLVED)),
        "lon": lon,
        "lat": lat,
    })


# ----------------------------------------------------------------------------
# public API


def generate_district(size: SampleSize = SampleSize(),
                      seed: int = DEFAULT_SEED) -> dict[str, pd.DataFrame]:
    """Every table of the sample district, canonical columns and values.

    Same size and seed → identical frames. Dates are ISO text, timestamps
    'YYYY-MM-DD HH:MM:SS', months 'YYYY-MM', enums are codes, missing values
    are NA (written as empty cells). The grid events come from their own
    child stream of the seed, after the other tables, so their size does not
    change any other table.
    """
    if size.communities < 1 or size.months < 1 or size.years < 1:
        raise ValueError("SampleSize needs at least one community, month and year")
    if size.incidents is not None and size.incidents < 0:
        raise ValueError("SampleSize.incidents must be None or a count ≥ 0")
    rng = np.random.default_rng(seed)
    communities, ctx = _communities(rng, size.communities)
    frames = {
        "communities": communities,
        "facilities": _facilities(rng, communities, ctx),
        "funding": _funding(rng, communities, ctx, size.years),
        "safety": _safety(rng, communities, ctx, size.months),
        "residences": _residences(rng, communities, ctx, size.residences_per_community),
    }
    frames["incidents"] = _incidents(
        np.random.default_rng([seed, _INCIDENT_STREAM]), ctx, frames["safety"],
        frames["residences"], size.months, size.incidents,
    )
    for name, frame in frames.items():
        assert tuple(frame.columns) == TABLES[name].column_names, name
    return frames


def _fixed(values: np.ndarray, places: int) -> pa.Array:
    """Floats → text with exactly `places` decimals (as f"{v:.{places}f}"), null for NaN.

    Done on scaled integers in Arrow: millions of cells in well under a second.
    """
    missing = np.isnan(values)
    scaled = np.round(np.where(missing, 0.0, values) * 10**places).astype(np.int64)
    digits = pc.utf8_lpad(pc.cast(pa.array(np.abs(scaled)), pa.string()), places + 1, "0")
    if places:
        digits = _join(pc.utf8_slice_codeunits(digits, 0, -places), ".",
                       pc.utf8_slice_codeunits(digits, -places))
    text = pc.if_else(pa.array(scaled < 0), _join("-", digits), digits)
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)


def _csv_table(frame: pd.DataFrame) -> pa.Table:
    """The frame as Arrow, floats pre-formatted so the files are byte-stable."""
    columns = {}
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_float_dtype(series.dtype):
            columns[name] = _fixed(series.to_numpy(dtype=np.float64), _DECIMALS.get(name, 6))
        else:
            columns[name] = pa.array(series, from_pandas=True)
    return pa.table(columns)


def write_sample(out_dir: Path, size: SampleSize = SampleSize(),
                 seed: int = DEFAULT_SEED) -> dict[str, Path]:
    """Write <table>.csv for every table (UTF-8, English headers, '\\n' endings).

    Values contain no commas, quotes or line breaks, so nothing is quoted.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    options = pa_csv.WriteOptions(eol="\n", quoting_style="none", quoting_header="none")
    written: dict[str, Path] = {}
    for name, frame in generate_district(size, seed).items():
        path = out_dir / f"{name}.csv"
        pa_csv.write_csv(_csv_table(frame), path, options)
        written[name] = path
    return written
