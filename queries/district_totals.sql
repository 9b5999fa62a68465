-- Headline totals over the communities the viewer can see (overview KPIs).
-- One row per call: exactly one row, zeros when nothing is scoped_communities.
-- Columns: communities, households, population, streets.
-- Parameters: $scope_streets, $community_types

with
-- include: scoped_communities

final as (
    select
        count(*) as communities,
        coalesce(sum(households), 0) as households,
        coalesce(sum(population), 0) as population,
        count(distinct street) as streets
    from scoped_communities
)

select * from final
