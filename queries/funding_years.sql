-- The years that have funding lines for communities the viewer may see (the
-- year picker; the latest is the default funding period).
-- One row per year, newest first.
-- Scope only: not narrowed by the community-type filter, so the period pickers stay
-- stable while the type filter changes. Lines whose community_id is not in
-- communities are ignored, as everywhere.
-- Parameters: $scope_streets

with
-- include: visible_communities

final as (
    select distinct f.year
    from funding as f
    inner join visible_communities using (community_id)
)

select * from final
order by year desc
