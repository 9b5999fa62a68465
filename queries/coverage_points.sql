-- Walking-distance coverage of every visible residence (or community centroid)
-- by the nearest in-use facility of each chosen type: the map layer of the
-- ten-minute service circle (十分钟社区管理服务圈) and its what-if variant.
-- One row per point × facility type in $facility_types, ordered by community_id,
--   point_id, facility_type.
-- Columns: point_id (residence_id, or community_id for a centroid), basis
--   ('residences' | 'centroids'), community_id, community_name, street,
--   community_type, households, lon, lat, facility_type, nearest_facility_id,
--   nearest_facility_name, nearest_walking_m, is_covered, was_covered,
--   search_limit_m.
-- Rules: walking distance = haversine great-circle distance (earth radius
--   6,371,008.8 m) × $walking_detour_factor. A point is covered when its nearest
--   facility of the type has walking distance ≤ $radius_m. Facilities: status
--   'in_use' with coordinates, any community (never scope-filtered: residents
--   walk across boundaries), minus $closed_facility_ids, plus $added_facilities
--   (what-if proposals, never stored); was_covered is the same test against the
--   stored in-use facilities only (no closures, no proposals). The nearest
--   facility is searched exactly up to search_limit_m = greatest($radius_m,
--   $nearest_search_m) walking; beyond it the nearest columns are NULL ("farther
--   than search_limit_m"). Points: residences when any are loaded, else the
--   community centroids weighted by communities.households (a community without
--   coordinates has no point). Ties: the smallest facility_id wins.
--   Geometry: latitude-aware grid equi-join, exact for |lat| < 85°, no wrap at
--   ±180° longitude (see governance/coverage.py).
-- Parameters: $scope_streets, $community_types, $facility_types, $radius_m,
--   $walking_detour_factor, $nearest_search_m, $added_facilities,
--   $closed_facility_ids

with scoped_communities as (
    select community_id, community_name, street, community_type, households, lon, lat
    from communities
    where list_contains($scope_streets, street)
      and list_contains($community_types, community_type)
),

residences_loaded as (
    select count(*) > 0 as is_loaded
    from residences
),

points as (
    select
        r.residence_id as point_id,
        'residences' as basis,
        r.community_id,
        r.households,
        r.lon,
        r.lat
    from residences as r
    inner join scoped_communities as c using (community_id)

    union all

    select c.community_id, 'centroids', c.community_id, c.households, c.lon, c.lat
    from scoped_communities as c
    cross join residences_loaded as l
    where not l.is_loaded
      and c.lon is not null
      and c.lat is not null
),

facility_types as (
    select distinct unnest($facility_types::varchar[]) as facility_type
),

added_facilities as (
    select unnest(
        $added_facilities::struct(
            facility_id varchar, facility_name varchar, facility_type varchar,
            lon double, lat double
        )[]
    ) as a
),

candidate_facilities as (
    select
        f.facility_id,
        f.facility_name,
        f.facility_type,
        f.lon,
        f.lat,
        true as is_stored,
        not list_contains($closed_facility_ids::varchar[], f.facility_id) as is_open
    from facilities as f
    where f.status = 'in_use'
      and f.lon is not null
      and f.lat is not null

    union all

    select
        a.facility_id, a.facility_name, a.facility_type, a.lon, a.lat, false, true
    from added_facilities
    where a.lon is not null
      and a.lat is not null
),

typed_facilities as (
    select f.*, radians(f.lat) as lat_rad, radians(f.lon) as lon_rad, cos(radians(f.lat)) as cos_lat
    from candidate_facilities as f
    semi join facility_types as t using (facility_type)
),

typed_points as (
    select
        p.*,
        t.facility_type,
        radians(p.lat) as lat_rad,
        radians(p.lon) as lon_rad,
        cos(radians(p.lat)) as cos_lat
    from points as p
    cross join facility_types as t
),

-- Two searches on the same grid recipe: pass 1 at the circle radius for every
-- point, pass 2 at the search limit for the points pass 1 left uncovered.
-- Cell height (degrees latitude) ≥ straight radius / 111,195 m. Cell width of
-- row k (degrees longitude) = asin(sin(δ) / cos(φ)) at φ = the row's poleward
-- edge, δ = straight radius / earth radius: no point within the radius of a
-- point in row k lies further away in longitude. Both are widened by 1e-6 so
-- rounding never drops a pair; the exact haversine test decides.
searches as (
    select
        pass,
        straight_m,
        straight_m / 111195.0 * 1.000001 as cell_lat_deg,
        straight_m / 6371008.8 as straight_rad,
        pow(sin(straight_m / 6371008.8 / 2), 2) * 1.000001 as hav_max
    from (
        select 1 as pass, $radius_m::double / $walking_detour_factor::double as straight_m
        union all
        select 2, greatest($radius_m::double, $nearest_search_m::double)
            / $walking_detour_factor::double
    )
),

point_rows as (
    select distinct s.pass, floor(p.lat / s.cell_lat_deg)::bigint as cell_row
    from typed_points as p
    cross join searches as s
),

row_widths as (
    select
        pass,
        cell_row,
        case
            when sin(straight_rad) >= cos(radians(poleward_deg)) then 360.0
            else degrees(asin(sin(straight_rad) / cos(radians(poleward_deg)))) * 1.000001
        end as cell_lon_deg
    from (
        select
            r.pass,
            r.cell_row,
            s.straight_rad,
            least(90.0, greatest(abs(r.cell_row * s.cell_lat_deg),
                                 abs((r.cell_row + 1) * s.cell_lat_deg))) as poleward_deg
        from point_rows as r
        inner join searches as s using (pass)
    )
),

-- Each facility is keyed into the 3 rows around its own, with each target
-- row's width, and into the 3 columns around its column there: a point then
-- meets every facility of its 3 × 3 neighbourhood by equality on its own cell.
facility_keys as (
    select
        w.pass,
        f.facility_type,
        w.cell_row,
        unnest([c - 1, c, c + 1]) as cell_col,
        f.facility_id,
        f.facility_name,
        f.is_stored,
        f.is_open,
        f.lat_rad,
        f.lon_rad,
        f.cos_lat
    from (
        select
            f.*,
            s.pass,
            unnest([0, -1, 1]) + floor(f.lat / s.cell_lat_deg)::bigint as target_row
        from typed_facilities as f
        cross join searches as s
    ) as f
    inner join row_widths as w on w.pass = f.pass and w.cell_row = f.target_row
    cross join lateral (select floor(f.lon / w.cell_lon_deg)::bigint as c)
),

point_keys as (
    select
        s.pass,
        p.*,
        w.cell_row,
        floor(p.lon / w.cell_lon_deg)::bigint as cell_col
    from typed_points as p
    cross join searches as s
    inner join row_widths as w
        on w.pass = s.pass and w.cell_row = floor(p.lat / s.cell_lat_deg)::bigint
),

near_pairs as (
    select
        p.point_id,
        p.facility_type,
        f.facility_id,
        f.facility_name,
        f.is_stored,
        f.is_open,
        2 * 6371008.8 * asin(least(1.0, sqrt(
            pow(sin((f.lat_rad - p.lat_rad) / 2), 2)
            + p.cos_lat * f.cos_lat * pow(sin((f.lon_rad - p.lon_rad) / 2), 2)
        ))) * $walking_detour_factor::double as walking_m
    from point_keys as p
    inner join facility_keys as f
        on f.pass = 1
        and f.facility_type = p.facility_type
        and f.cell_row = p.cell_row
        and f.cell_col = p.cell_col
    where p.pass = 1
),

in_circle as (
    select
        point_id,
        facility_type,
        min((walking_m, facility_id, facility_name)) filter (where is_open) as nearest,
        bool_or(is_stored) as was_covered
    from near_pairs
    where walking_m <= $radius_m
    group by point_id, facility_type
),

far_pairs as (
    select
        p.point_id,
        p.facility_type,
        f.facility_id,
        f.facility_name,
        2 * 6371008.8 * asin(least(1.0, sqrt(
            pow(sin((f.lat_rad - p.lat_rad) / 2), 2)
            + p.cos_lat * f.cos_lat * pow(sin((f.lon_rad - p.lon_rad) / 2), 2)
        ))) * $walking_detour_factor::double as walking_m
    from point_keys as p
    anti join in_circle as c
        on c.point_id = p.point_id
        and c.facility_type = p.facility_type
        and c.nearest is not null
    inner join facility_keys as f
        on f.pass = 2
        and f.is_open
        and f.facility_type = p.facility_type
        and f.cell_row = p.cell_row
        and f.cell_col = p.cell_col
    where p.pass = 2
),

beyond_circle as (
    select point_id, facility_type, min((walking_m, facility_id, facility_name)) as nearest
    from far_pairs
    where walking_m <= greatest($radius_m::double, $nearest_search_m::double)
    group by point_id, facility_type
),

final as (
    select
        p.point_id,
        p.basis,
        p.community_id,
        c.community_name,
        c.street,
        c.community_type,
        p.households,
        p.lon,
        p.lat,
        p.facility_type,
        coalesce(i.nearest, b.nearest)[2] as nearest_facility_id,
        coalesce(i.nearest, b.nearest)[3] as nearest_facility_name,
        coalesce(i.nearest, b.nearest)[1] as nearest_walking_m,
        i.nearest is not null as is_covered,
        coalesce(i.was_covered, false) as was_covered,
        greatest($radius_m::double, $nearest_search_m::double) as search_limit_m
    from typed_points as p
    inner join scoped_communities as c using (community_id)
    left join in_circle as i using (point_id, facility_type)
    left join beyond_circle as b using (point_id, facility_type)
)

select * from final
order by community_id, point_id, facility_type
