-- Indicator F03 十分钟服务圈覆盖率 for every community the viewer can see, in the
-- long format of the other indicator queries, with the status from
-- indicator_status().
-- One row per visible community (indicator F03), ordered by community_id.
-- Columns: community_id, indicator_id, value, floor_value, target_value, status,
--   numerator (households covered), denominator (households counted),
--   community_name, street, community_type.
-- Rules: value = households whose walking distance to the nearest in-use
--   service_center is ≤ $service_circle_radius_m / households × 100; walking
--   distance = haversine on the 6,371,008.8 m sphere × $walking_detour_factor.
--   Facilities: status 'in_use' with coordinates, in any community (never
--   scope-filtered). Households, per community: its residences when it has
--   any, else its centroid weighted by communities.households. no_data when
--   the community has no point (no residences and no centroid coordinates),
--   its points hold 0 households, or no
--   facility in the table has coordinates (locations not uploaded). Same grid
--   engine as coverage_points.sql (see governance/coverage.py).
-- Parameters: $scope_streets, $community_types, $thresholds,
--   $service_circle_radius_m, $walking_detour_factor

with circle as (
    select
        $service_circle_radius_m::double as radius_m,
        $walking_detour_factor::double as detour_factor,
        $service_circle_radius_m::double as search_limit_m
),

facility_types as (
    select 'service_center' as facility_type, 1 as type_no
),

candidate_facilities as (
    select
        facility_id,
        facility_name,
        facility_type,
        lon,
        lat,
        true as is_stored,
        true as is_open
    from facilities
    where status = 'in_use'
),

-- include: walking_grid

covered_points as (
    select distinct point_no
    from near_pairs
),

community_sums as (
    select
        p.community_id,
        count(*) as points,
        sum(p.households) as households_total,
        coalesce(sum(p.households) filter (where v.point_no is not null), 0)
            as households_covered
    from typed_points as p
    left join covered_points as v using (point_no)
    group by p.community_id
),

facilities_located as (
    select count(*) > 0 as is_located
    from facilities
    where lon is not null
      and lat is not null
),

-- include: standards

computed as (
    select
        c.community_id,
        'F03' as indicator_id,
        case
            when g.is_located then s.households_covered * 100.0 / nullif(s.households_total, 0)
        end as value,
        case when g.is_located then s.households_covered end as numerator,
        s.households_total as denominator
    from scoped_communities as c
    cross join facilities_located as g
    left join community_sums as s using (community_id)
),

final as (
    select
        v.community_id,
        v.indicator_id,
        v.value::double as value,
        t.floor_value,
        t.target_value,
        indicator_status(v.value, t.floor_value, t.target_value, t.direction) as status,
        v.numerator::double as numerator,
        v.denominator::double as denominator,
        c.community_name,
        c.street,
        c.community_type
    from computed as v
    inner join scoped_communities as c using (community_id)
    left join standards as t using (indicator_id)
)

select * from final
order by community_id, indicator_id
