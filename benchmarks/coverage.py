"""Walking-distance coverage engine: grid equi-join versus all pairs.

    .venv/bin/python benchmarks/coverage.py [--residences N] [--facilities M]
        [--baseline-residences n] [--baseline-facilities m] [--radius-m R] [--repeat K]

Builds N residences and M in-use service centres uniformly over a ~30 × 30 km
district around lon 117.0, lat 32.6 in an in-memory DuckDB (communities on a
20 × 20 grid of blocks, so scope and per-community sums do real work), then
times, best of K after one warm-up run:

* grid, nearest: queries/coverage_points.sql (nearest facility, walking
  distance and covered flag per residence, plus the second search for the
  uncovered) for one facility type;
* grid, coverage: queries/community_facility_coverage.sql (households covered
  per community);
* grid, F03: queries/community_coverage_indicators.sql (F03 for every community);
* all pairs: a cross join + haversine + min at a size it can finish, and the
  grid nearest query at that same size.

`pairs examined` is the number of (residence, facility) pairs whose haversine
was evaluated: N × M for all pairs; for the grid, the candidates its equi-join
returns for the circle (the 3 × 3 neighbourhoods; counted separately, untimed).
The nearest query's second pass (uncovered points only, at the 3,000 m search
limit) adds its own, usually few, candidates.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance import coverage, db  # noqa: E402
from governance.catalogue import Standards  # noqa: E402

CENTRE_LON, CENTRE_LAT = 117.0, 32.6
HALF_SIDE_M = 15_000.0
M_PER_DEG_LAT = 111_195.0
BLOCKS = 20
STREETS = 8

# The baseline: every residence against every facility. Kept here, not under
# queries/, because the app must never run it.
ALL_PAIRS_SQL = """
with pairs as (
    select
        r.residence_id,
        2 * 6371008.8 * asin(least(1.0, sqrt(
            pow(sin((radians(f.lat) - radians(r.lat)) / 2), 2)
            + cos(radians(r.lat)) * cos(radians(f.lat))
              * pow(sin((radians(f.lon) - radians(r.lon)) / 2), 2)
        ))) * $walking_detour_factor as walking_m
    from residences as r
    cross join facilities as f
    where f.status = 'in_use' and f.facility_type = 'service_center'
),

final as (
    select
        count(*) as residences,
        count(*) filter (where nearest_m <= $radius_m) as covered
    from (select residence_id, min(walking_m) as nearest_m from pairs group by residence_id)
)

select * from final
"""



def grid_candidates_sql() -> str:
    """The grid block of queries/coverage_points.sql, then a count of the
    candidate pairs its equi-join produces before the exact haversine test."""
    sql = (db.QUERIES_DIR / "coverage_points.sql").read_text(encoding="utf-8")
    head = sql[: sql.index("-- include: walking_grid")] + "-- include: walking_grid\n"
    return db.compose(head)[0] + """
final as (
    select count(*) as pairs
    from point_keys as p
    inner join (select * from facility_keys where pass = 1) as f
        on f.type_no = p.type_no
        and f.cell_row = p.cell_row
        and f.cell_col = p.cell_col
)

select * from final
"""


def build(conn, residences: int, facilities: int, seed: int = 20240601) -> None:
    """Uniform residences and in-use service centres over the district square."""
    rng = np.random.default_rng(seed)
    deg_lat = HALF_SIDE_M / M_PER_DEG_LAT
    deg_lon = deg_lat / np.cos(np.radians(CENTRE_LAT))

    def scatter(n: int) -> tuple[np.ndarray, np.ndarray]:
        return (CENTRE_LON + rng.uniform(-deg_lon, deg_lon, n),
                CENTRE_LAT + rng.uniform(-deg_lat, deg_lat, n))

    def block_of(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        i = np.clip(((lon - CENTRE_LON + deg_lon) / (2 * deg_lon) * BLOCKS).astype(int), 0,
                    BLOCKS - 1)
        j = np.clip(((lat - CENTRE_LAT + deg_lat) / (2 * deg_lat) * BLOCKS).astype(int), 0,
                    BLOCKS - 1)
        return j * BLOCKS + i

    n_comm = BLOCKS * BLOCKS
    ids = np.array([f"B{k:04d}" for k in range(n_comm)], dtype=object)
    communities = pa.table({
        "community_id": ids,
        "community_name": ids,
        "street": np.array([f"S{k % STREETS}" for k in range(n_comm)], dtype=object),
        "community_type": np.full(n_comm, "urban", dtype=object),
        "households": np.zeros(n_comm, dtype=np.int32),
        "population": np.zeros(n_comm, dtype=np.int32),
        "office_area_m2": np.full(n_comm, 300.0),
    })
    lon, lat = scatter(residences)
    households = rng.integers(20, 200, residences).astype(np.int32)
    residence_table = pa.table({
        "residence_id": pa.array(np.char.add("R", np.arange(residences).astype(str))),
        "community_id": ids[block_of(lon, lat)],
        "households": households,
        "lon": lon,
        "lat": lat,
    })
    flon, flat = scatter(facilities)
    facility_table = pa.table({
        "facility_id": pa.array(np.char.add("F", np.arange(facilities).astype(str))),
        "community_id": ids[block_of(flon, flat)],
        "facility_type": np.full(facilities, "service_center", dtype=object),
        "lon": flon,
        "lat": flat,
    })
    conn.register("new_communities", communities)
    conn.register("new_residences", residence_table)
    conn.register("new_facilities", facility_table)
    conn.execute("""
        insert into communities (community_id, community_name, street, community_type,
                                 households, population, office_area_m2, import_id)
        select community_id, community_name, street, community_type, households, population,
               office_area_m2, 1
        from new_communities;
        insert into residences (residence_id, community_id, households, lon, lat, import_id)
        select residence_id, community_id, households, lon, lat, 1 from new_residences;
        insert into facilities (facility_id, community_id, facility_type, status, lon, lat,
                                import_id)
        select facility_id, community_id, facility_type, 'in_use', lon, lat, 1
        from new_facilities;
        update communities set households = coalesce(
            (select sum(households) from residences as r
             where r.community_id = communities.community_id), 0);
    """)
    for name in ("new_communities", "new_residences", "new_facilities"):
        conn.unregister(name)


def best_of(repeat: int, run) -> float:
    run()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def grid_pairs(conn, params: dict) -> int:
    sql = grid_candidates_sql()
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    used = set(re.findall(r"\$([a-z_][a-z0-9_]*)", body))
    return conn.execute(sql, {k: params[k] for k in used}).fetchone()[0]


def measure(residences: int, facilities: int, radius_m: float, repeat: int,
            all_pairs: bool) -> list[tuple]:
    conn = db.connect_memory()
    try:
        build(conn, residences, facilities)
        standards = Standards.default()
        detour = float(standards.settings["walking_detour_factor"])
        rows = []
        pairs = grid_pairs(conn, coverage.coverage_params(conn, radius_m=radius_m,
                                                          standards=standards))
        seconds = best_of(repeat, lambda: coverage.coverage_points(
            conn, "service_center", radius_m=radius_m, standards=standards))
        rows.append(("grid, nearest", residences, facilities, seconds, pairs))
        seconds = best_of(repeat, lambda: coverage.community_coverage(
            conn, ["service_center"], radius_m=radius_m, standards=standards))
        rows.append(("grid, coverage", residences, facilities, seconds, pairs))
        seconds = best_of(repeat, lambda: coverage.f03_values(conn, standards=standards))
        rows.append(("grid, F03", residences, facilities, seconds, pairs))
        if all_pairs:
            params = {"radius_m": radius_m, "walking_detour_factor": detour}
            seconds = best_of(repeat, lambda: conn.execute(ALL_PAIRS_SQL, params).fetchall())
            rows.append(("all pairs", residences, facilities, seconds,
                         residences * facilities))
        return rows
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residences", type=int, default=1_000_000)
    parser.add_argument("--facilities", type=int, default=10_000)
    parser.add_argument("--baseline-residences", type=int, default=20_000)
    parser.add_argument("--baseline-facilities", type=int, default=2_000)
    parser.add_argument("--radius-m", type=float, default=500.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    rows = measure(args.residences, args.facilities, args.radius_m, args.repeat, False)
    rows += measure(args.baseline_residences, args.baseline_facilities, args.radius_m,
                    args.repeat, True)
    print(f"radius {args.radius_m:g} m walking, detour "
          f"{Standards.default().settings['walking_detour_factor']}, best of {args.repeat}")
    header = (f"{'method':<16}{'residences':>12}{'facilities':>12}{'seconds':>10}"
              f"{'pairs examined':>18}")
    print(header)
    print("-" * len(header))
    for method, n, m, seconds, pairs in rows:
        print(f"{method:<16}{n:>12,}{m:>12,}{seconds:>10.3f}{pairs:>18,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
