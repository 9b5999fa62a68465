-- The communities the viewer can see, with their attributes (for tables, maps
-- and joins on pages).
-- One row per visible community, ordered by street, community_id.
-- Columns: every communities column except import_id; lon/lat may be NULL.
-- Parameters: $scope_streets, $community_types

with
-- include: scoped_communities

final as (
    select
        community_id,
        community_name,
        street,
        district,
        community_type,
        households,
        population,
        elderly_population,
        floating_population,
        low_income_households,
        office_area_m2,
        staff_count,
        certified_social_workers,
        staff_avg_monthly_pay,
        committee_members,
        volunteers,
        lon,
        lat
    from scoped_communities
)

select * from final
order by street, community_id
