-- The walking-distance grid of the ten-minute service circle: every point
-- (each visible community's residences, or its centre weighted by households
-- when it has none) paired with every facility of a chosen type within the
-- circle, found without comparing all pairs and without spatial extensions.
-- Used by coverage_points.sql, community_facility_coverage.sql and
-- community_coverage_indicators.sql; governance/coverage.py explains the method.
-- Needs, before it in the with list: circle (radius_m, detour_factor,
--   search_limit_m), facility_types (facility_type, type_no),
--   candidate_facilities (facility_id, facility_name, facility_type, lon, lat,
--   is_stored, is_open).
-- CTEs: scoped_communities, residence_communities, points, typed_facilities,
--   typed_points, searches, row_widths, facility_keys, point_keys, near_pairs
--   (point_no, type_no, facility_no, is_stored, is_open, hav: the pairs within
--   the circle).
-- Parameters: $scope_streets, $community_types
    -- community_facility_coverage.sql and community_coverage_indicators.sql
    -- (tests/queries/test_coverage_queries.py checks). Inputs: circle,
    -- facility_types, candidate_facilities. Output: near_pairs.
-- include: scoped_communities

residence_communities as (
    select distinct community_id
    from residences
    semi join scoped_communities using (community_id)
),

    -- Each community on its own basis: its residences (楼栋/网格) when it has
    -- any, otherwise one point at its centre weighted by its households, so a
    -- district's first import without buildings still has coverage figures.
    -- point_no is even for residences and odd for centres: never the same.
points as (
    select
        r.rowid * 2 as point_no,
        r.residence_id as point_id,
        'residences' as basis,
        r.community_id,
        r.households,
        r.lon,
        r.lat
    from residences as r
    semi join scoped_communities using (community_id)

    union all

    select
        c.community_no * 2 + 1,
        c.community_id,
        'centroids',
        c.community_id,
        c.households,
        c.lon,
        c.lat
    from scoped_communities as c
    anti join residence_communities using (community_id)
    where c.lon is not null
      and c.lat is not null
),

typed_facilities as (
    select
        f.*,
        t.type_no,
        row_number() over (order by f.facility_id, f.is_stored desc) as facility_no,
        sin(radians(f.lat) / 2) as sin_half_lat,
        cos(radians(f.lat) / 2) as cos_half_lat,
        sin(radians(f.lon) / 2) as sin_half_lon,
        cos(radians(f.lon) / 2) as cos_half_lon,
        cos(radians(f.lat)) as cos_lat
    from candidate_facilities as f
    inner join facility_types as t using (facility_type)
    where f.lon is not null
      and f.lat is not null
),

typed_points as (
    select
        p.*,
        t.facility_type,
        t.type_no,
        sin(radians(p.lat) / 2) as sin_half_lat,
        cos(radians(p.lat) / 2) as cos_half_lat,
        sin(radians(p.lon) / 2) as sin_half_lon,
        cos(radians(p.lon) / 2) as cos_half_lon,
        cos(radians(p.lat)) as cos_lat
    from points as p
    cross join facility_types as t
),

    -- The grid: pass 1 at the circle radius, pass 2 at the search limit.
    -- Cell height (degrees latitude) ≥ straight radius / 111,195 m (one degree
    -- of latitude is 111,195.08 m on the 6,371,008.8 m sphere). Width of row k
    -- (degrees longitude) = asin(sin δ / cos φ) with φ the row's poleward edge
    -- and δ = straight radius / earth radius: a point of row k has no
    -- neighbour within δ farther away in longitude (the whole row, 360°, when
    -- sin δ ≥ cos φ). Both are widened by 1e-6 so rounding never drops a pair;
    -- the exact haversine decides. Rows span the points' latitudes ± 1.
searches as (
    select
        pass,
        straight_m,
        straight_m / 111195.0 * 1.000001 as cell_lat_deg,
        pow(sin(straight_m / 6371008.8 / 2), 2) as max_hav
    from (
        select 1 as pass, radius_m / detour_factor as straight_m
        from circle
        union all
        select 2, greatest(radius_m, search_limit_m) / detour_factor
        from circle
    )
),

row_widths as (
    select
        pass,
        cell_row,
        case
            when sin(straight_m / 6371008.8) >= cos(radians(poleward_deg)) then 360.0
            else degrees(asin(sin(straight_m / 6371008.8) / cos(radians(poleward_deg))))
                * 1.000001
        end as cell_lon_deg
    from (
        select
            pass,
            straight_m,
            cell_row,
            least(90.0, greatest(abs(cell_row * cell_lat_deg),
                                 abs((cell_row + 1) * cell_lat_deg))) as poleward_deg
        from (
            select
                s.pass,
                s.straight_m,
                s.cell_lat_deg,
                unnest(range(
                    floor(b.min_lat / s.cell_lat_deg)::bigint - 1,
                    floor(b.max_lat / s.cell_lat_deg)::bigint + 2
                )) as cell_row
            from searches as s
            -- The points' latitude span, then one row per grid row: a join
            -- rather than a correlated lateral subquery, which Spark refuses.
            cross join (select min(lat) as min_lat, max(lat) as max_lat from points) as b
        )
    )
),

    -- Each facility is keyed into the 3 rows around its own row, in each with
    -- that target row's width, and the 3 columns around its column there; a
    -- point then meets every facility of its 3 × 3 neighbourhood by equality
    -- on its own (row, column).
facility_keys as (
    select
        f.pass,
        f.type_no,
        f.cell_row,
        f.cell_col + unnest([-1, 0, 1]) as cell_col,
        f.facility_no,
        f.is_stored,
        f.is_open,
        f.sin_half_lat,
        f.cos_half_lat,
        f.sin_half_lon,
        f.cos_half_lon,
        f.cos_lat
    from (
        select f.*, w.cell_row, floor(f.lon / w.cell_lon_deg)::bigint as cell_col
        from (
            select
                f.*,
                s.pass,
                floor(f.lat / s.cell_lat_deg)::bigint + unnest([-1, 0, 1]) as target_row
            from typed_facilities as f
            cross join searches as s
        ) as f
        inner join row_widths as w on w.pass = f.pass and w.cell_row = f.target_row
    ) as f
),

point_keys as (
    select
        p.point_no,
        p.type_no,
        p.sin_half_lat,
        p.cos_half_lat,
        p.sin_half_lon,
        p.cos_half_lon,
        p.cos_lat,
        p.cell_row,
        floor(p.lon / w.cell_lon_deg)::bigint as cell_col,
        p.max_hav
    from (
        select p.*, s.max_hav, floor(p.lat / s.cell_lat_deg)::bigint as cell_row
        from typed_points as p
        cross join searches as s
        where s.pass = 1
    ) as p
    inner join row_widths as w on w.pass = 1 and w.cell_row = p.cell_row
),

    -- Pairs within the circle: same cell, then the exact haversine test
    -- hav(Δφ) + cos φ₁ cos φ₂ hav(Δλ) ≤ sin²(δ / 2), i.e. great-circle distance
    -- ≤ δ = straight radius (circle radius / detour factor). The half-angle
    -- sines of the differences come from sin((b − a)/2) = sin(b/2) cos(a/2) −
    -- cos(b/2) sin(a/2), so a pair costs multiplications only; the distance
    -- itself, 2R asin(√hav), is taken for the pairs that matter.
near_pairs as (
    select point_no, type_no, facility_no, is_stored, is_open, hav
    from (
        select
            p.point_no,
            p.type_no,
            f.facility_no,
            f.is_stored,
            f.is_open,
            (f.sin_half_lat * p.cos_half_lat - f.cos_half_lat * p.sin_half_lat)
                * (f.sin_half_lat * p.cos_half_lat - f.cos_half_lat * p.sin_half_lat)
            + p.cos_lat * f.cos_lat
                * (f.sin_half_lon * p.cos_half_lon - f.cos_half_lon * p.sin_half_lon)
                * (f.sin_half_lon * p.cos_half_lon - f.cos_half_lon * p.sin_half_lon)
                as hav,
            p.max_hav
        from point_keys as p
        inner join (select * from facility_keys where pass = 1) as f
            on f.type_no = p.type_no
            and f.cell_row = p.cell_row
            and f.cell_col = p.cell_col
    )
    where hav <= max_hav
),
