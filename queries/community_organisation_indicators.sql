-- Organisation indicators O01 and O02 for every community the viewer can see,
-- in long format with the status from indicator_status().
-- One row per community × indicator (O01, O02), ordered by community_id, indicator_id.
-- Columns: community_id, indicator_id, value, floor_value, target_value, status,
--   numerator, denominator (the two inputs of a ratio, NULL where not a ratio),
--   community_name, street, community_type.
-- Rules: O01 value = committee_members; floor_value = the members required for
--   the community's households: $committee_members_small up to
--   $committee_small_max_households, $committee_members_medium up to
--   $committee_medium_max_households, else $committee_members_large (this
--   per-community floor replaces any catalogue floor). O02 = volunteers /
--   population × 1000; population 0 → no_data.
-- Parameters: $scope_streets, $community_types, $thresholds,
--   $committee_small_max_households, $committee_medium_max_households,
--   $committee_members_small, $committee_members_medium, $committee_members_large

with
-- include: scoped_communities

-- include: standards

computed as (
    select
        community_id,
        'O01' as indicator_id,
        committee_members::double as value,
        case
            when households <= $committee_small_max_households
                then $committee_members_small
            when households <= $committee_medium_max_households
                then $committee_members_medium
            else $committee_members_large
        end::double as community_floor,
        null::double as numerator,
        null::double as denominator
    from scoped_communities

    union all

    select
        community_id,
        'O02',
        volunteers * 1000.0 / nullif(population, 0),
        null,
        volunteers,
        population
    from scoped_communities
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
