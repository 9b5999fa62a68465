-- Facility indicators F01, F02, F04, F05 for every community the viewer can see,
-- in long format with the status from indicator_status(). F03 (ten-minute
-- service circle) is computed by the coverage engine, not here.
-- One row per community × indicator (F01, F02, F04, F05), ordered by community_id, indicator_id.
-- Columns: community_id, indicator_id, value, floor_value, target_value, status,
--   numerator, denominator (the two inputs of a ratio, NULL where not a ratio),
--   community_name, street, community_type.
-- Rules: F01/F05 households = 0 → no_data. F02 floor is the catalogue floor, or
--   $rural_office_area_floor_m2 for community_type 'rural' (reported in floor_value).
--   F04/F05: an empty facilities table means "not uploaded" → no_data for all;
--   once facilities are loaded, a community with none scores 0. F05 sums the known
--   area_m2 of in-use facilities (a facility without an area adds nothing; if every
--   such facility lacks an area the value is no_data).
-- Parameters: $scope_streets, $community_types, $thresholds,
--   $rural_office_area_floor_m2, $basic_facility_types, $elderly_facility_types

with
-- include: scoped_communities

-- include: standards

facilities_loaded as (
    select count(*) > 0 as is_loaded
    from facilities
),

in_use_facilities as (
    select community_id, facility_type, area_m2
    from facilities
    where status = 'in_use'
),

basic_types_present as (
    select community_id, count(distinct facility_type) as types_present
    from in_use_facilities
    where list_contains($basic_facility_types, facility_type)
    group by community_id
),

elderly_area as (
    select
        community_id,
        count(*) as elderly_facilities,
        sum(area_m2) as elderly_area_m2
    from in_use_facilities
    where list_contains($elderly_facility_types, facility_type)
    group by community_id
),

inputs as (
    select
        c.*,
        l.is_loaded as facilities_loaded,
        len(list_distinct($basic_facility_types)) as basic_types_required,
        case when l.is_loaded then coalesce(b.types_present, 0) end as basic_types_present,
        case
            when not l.is_loaded then null
            when e.elderly_facilities is null then 0.0
            else e.elderly_area_m2
        end as elderly_area_m2
    from scoped_communities as c
    cross join facilities_loaded as l
    left join basic_types_present as b using (community_id)
    left join elderly_area as e using (community_id)
),

computed as (
    select
        community_id,
        'F01' as indicator_id,
        office_area_m2 / nullif(households, 0) * 100 as value,
        null::double as community_floor,
        office_area_m2::double as numerator,
        households::double as denominator
    from inputs

    union all

    select
        community_id,
        'F02',
        office_area_m2,
        case when community_type = 'rural' then $rural_office_area_floor_m2::double end,
        null,
        null
    from inputs

    union all

    select
        community_id,
        'F04',
        basic_types_present * 100.0 / nullif(basic_types_required, 0),
        null,
        basic_types_present,
        basic_types_required
    from inputs

    union all

    select
        community_id,
        'F05',
        elderly_area_m2 / nullif(households, 0) * 100,
        null,
        elderly_area_m2,
        households
    from inputs
),

final as (
    select
        v.community_id,
        v.indicator_id,
        v.value::double as value,
        coalesce(v.community_floor, t.floor_value) as floor_value,
        t.target_value,
        indicator_status(
            v.value, coalesce(v.community_floor, t.floor_value), t.target_value, t.direction
        ) as status,
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
