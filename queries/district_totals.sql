-- Headline totals over the communities the viewer can see (overview KPIs).
-- One row per call: exactly one row, zeros when nothing is visible.
-- Columns: communities, households, population, streets.
-- Parameters: $scope_streets, $community_types

with visible as (
    select street, households, population
    from communities
    where list_contains($scope_streets, street)
      and list_contains($community_types, community_type)
),

final as (
    select
        count(*) as communities,
        coalesce(sum(households), 0) as households,
        coalesce(sum(population), 0) as population,
        count(distinct street) as streets
    from visible
)

select * from final
