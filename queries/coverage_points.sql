-- Walking-distance coverage of every visible residence (or community centroid)
-- by the nearest facility of each chosen type: the map layer of the ten-minute
-- service circle (十分钟社区管理服务圈), with what-if proposals and closures.
-- One row per point × facility type in $facility_types, ordered by community_id,
--   point_id, facility_type.
-- Columns: point_id (residence_id, or community_id for a centroid), basis
--   ('residences' | 'centroids'), community_id, community_name, street,
--   community_type, households, lon, lat, facility_type, nearest_facility_id,
--   nearest_facility_name, nearest_walking_m, is_covered, was_covered,
--   search_limit_m.
-- Rules: walking distance = haversine distance on a sphere of radius
--   6,371,008.8 m × $walking_detour_factor. A point is covered (is_covered)
--   when a facility of the type lies within $radius_m walking, tested as
--   great-circle distance ≤ $radius_m / $walking_detour_factor. Facilities:
--   status 'in_use' with coordinates, in any community (never scope-filtered:
--   residents walk across boundaries), minus $closed_facility_ids, plus
--   $added_facilities (proposals, never stored); was_covered is the same test
--   against the stored in-use facilities alone (before closures and proposals).
--   The nearest facility (after closures and proposals) is found exactly up to
--   search_limit_m = greatest($radius_m, $nearest_search_m) walking; a point with
--   none that near has NULL nearest columns ("farther than search_limit_m").
--   Ties go to the smallest facility_id. Points, per community: its residences when it
--   has any, else its centroid weighted by communities.households (a community
--   with neither has no point). Exact for |lat| < 85°; longitudes do not
--   wrap at ±180°.
-- Parameters: $scope_streets, $community_types, $facility_types, $radius_m,
--   $walking_detour_factor, $nearest_search_m, $added_facilities,
--   $closed_facility_ids

with circle as (
    select
        $radius_m::double as radius_m,
        $walking_detour_factor::double as detour_factor,
        greatest($radius_m::double, $nearest_search_m::double) as search_limit_m
),

facility_types as (
    select unnest(types) as facility_type, generate_subscripts(types, 1) as type_no
    from (select list_sort(list_distinct($facility_types::varchar[])) as types)
),

    -- Stored in-use facilities (closed in the scenario when listed in
    -- $closed_facility_ids) plus the scenario's proposed facilities.
candidate_facilities as (
    select
        facility_id,
        facility_name,
        facility_type,
        lon,
        lat,
        true as is_stored,
        not list_contains($closed_facility_ids::varchar[], facility_id) as is_open
    from facilities
    where status = 'in_use'

    union all

    select a.facility_id, a.facility_name, a.facility_type, a.lon, a.lat, false, true
    from (
        select unnest(
            $added_facilities::struct(
                facility_id varchar, facility_name varchar, facility_type varchar,
                lon double, lat double
            )[]
        ) as a
    )
),

-- include: walking_grid

in_circle as materialized (
    select
        point_no,
        type_no,
        min((hav, facility_no)) filter (where is_open) as nearest,
        bool_or(is_stored) as was_covered
    from near_pairs
    group by point_no, type_no
),

    -- Pass 2, for the points with no open facility in the circle: the same
    -- grid recipe at the search limit.
uncovered_keys as materialized (
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
        anti join (select * from in_circle where nearest is not null) as c
            using (point_no, type_no)
        cross join searches as s
        where s.pass = 2
    ) as p
    inner join row_widths as w on w.pass = 2 and w.cell_row = p.cell_row
),

far_pairs as (
    select point_no, type_no, facility_no, hav
    from (
        select
            p.point_no,
            p.type_no,
            f.facility_no,
            (f.sin_half_lat * p.cos_half_lat - f.cos_half_lat * p.sin_half_lat)
                * (f.sin_half_lat * p.cos_half_lat - f.cos_half_lat * p.sin_half_lat)
            + p.cos_lat * f.cos_lat
                * (f.sin_half_lon * p.cos_half_lon - f.cos_half_lon * p.sin_half_lon)
                * (f.sin_half_lon * p.cos_half_lon - f.cos_half_lon * p.sin_half_lon)
                as hav,
            p.max_hav
        from uncovered_keys as p
        inner join (select * from facility_keys where pass = 2 and is_open) as f
            on f.type_no = p.type_no
            and f.cell_row = p.cell_row
            and f.cell_col = p.cell_col
    )
    where hav <= max_hav
),

beyond_circle as (
    select point_no, type_no, min((hav, facility_no)) as nearest
    from far_pairs
    group by point_no, type_no
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
        f.facility_id as nearest_facility_id,
        f.facility_name as nearest_facility_name,
        case
            when coalesce(i.nearest, b.nearest) is not null
                then 2 * 6371008.8 * asin(sqrt(least(coalesce(i.nearest, b.nearest)[1], 1.0)))
                    * k.detour_factor
        end as nearest_walking_m,
        i.nearest is not null as is_covered,
        coalesce(i.was_covered, false) as was_covered,
        k.search_limit_m
    from typed_points as p
    inner join scoped_communities as c using (community_id)
    left join in_circle as i using (point_no, type_no)
    left join beyond_circle as b using (point_no, type_no)
    left join typed_facilities as f on f.facility_no = coalesce(i.nearest, b.nearest)[2]
    cross join circle as k
)

select * from final
order by community_id, point_id, facility_type
