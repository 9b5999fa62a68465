-- Households within walking distance of each chosen facility type, per visible
-- community: the ten-minute service circle table (十分钟社区管理服务圈), and the
-- what-if comparison (proposed facilities added, stored ones closed).
-- One row per visible community × facility type in $facility_types, ordered by
--   community_id, facility_type.
-- Columns: community_id, community_name, street, community_type, facility_type,
--   basis ('residences' | 'centroids'), points, households_total,
--   households_covered, coverage_pct, households_covered_baseline,
--   coverage_baseline_pct, households_newly_covered, households_lost.
-- Rules: a point is covered when a facility of the type lies within $radius_m
--   walking (haversine on the 6,371,008.8 m sphere × $walking_detour_factor).
--   "Covered" uses the stored in-use facilities with coordinates (any community:
--   never scope-filtered) minus $closed_facility_ids plus $added_facilities;
--   "baseline" uses the stored in-use facilities alone, so newly covered / lost
--   are the households whose point changed state. Points, per community: its
--   residences when it has any, else its centroid weighted by
--   communities.households (basis says which; NULL when it has neither). coverage_pct =
--   households_covered / households_total × 100; NULL (no data) when the
--   community has no points, its points hold 0 households, or no facility in
--   the table has coordinates (locations not uploaded).
-- Parameters: $scope_streets, $community_types, $facility_types, $radius_m,
--   $walking_detour_factor, $added_facilities, $closed_facility_ids

with circle as (
    select
        $radius_m::double as radius_m,
        $walking_detour_factor::double as detour_factor,
        $radius_m::double as search_limit_m
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

point_flags as (
    select
        point_no,
        type_no,
        bool_or(is_open) as is_covered,
        bool_or(is_stored) as was_covered
    from near_pairs
    group by point_no, type_no
),

community_sums as (
    select
        p.community_id,
        p.type_no,
        count(*) as points,
        sum(p.households) as households_total,
        coalesce(sum(p.households) filter (where f.is_covered), 0) as households_covered,
        coalesce(sum(p.households) filter (where f.was_covered), 0)
            as households_covered_baseline,
        coalesce(sum(p.households) filter (where f.is_covered and not f.was_covered), 0)
            as households_newly_covered,
        coalesce(sum(p.households) filter (where f.was_covered and not f.is_covered), 0)
            as households_lost
    from typed_points as p
    left join point_flags as f using (point_no, type_no)
    group by p.community_id, p.type_no
),

facilities_located as (
    select count(*) > 0 as is_located
    from facilities
    where lon is not null
      and lat is not null
),

final as (
    select
        c.community_id,
        c.community_name,
        c.street,
        c.community_type,
        t.facility_type,
        case
            when r.community_id is not null then 'residences'
            when c.lon is not null and c.lat is not null then 'centroids'
        end as basis,
        coalesce(s.points, 0)::bigint as points,
        coalesce(s.households_total, 0)::bigint as households_total,
        case when g.is_located then s.households_covered end::bigint as households_covered,
        case
            when g.is_located then s.households_covered * 100.0 / nullif(s.households_total, 0)
        end::double as coverage_pct,
        case when g.is_located then s.households_covered_baseline end::bigint
            as households_covered_baseline,
        case
            when g.is_located
                then s.households_covered_baseline * 100.0 / nullif(s.households_total, 0)
        end::double as coverage_baseline_pct,
        case when g.is_located then s.households_newly_covered end::bigint
            as households_newly_covered,
        case when g.is_located then s.households_lost end::bigint as households_lost
    from scoped_communities as c
    cross join facility_types as t
    cross join facilities_located as g
    left join residence_communities as r on r.community_id = c.community_id
    left join community_sums as s
        on s.community_id = c.community_id
        and s.type_no = t.type_no
)

select * from final
order by community_id, facility_type
