-- The months (first day of month) that have safety reports for communities the
-- viewer may see (the month-range picker; the default range ends at the latest).
-- One row per month, oldest first.
-- Scope only: not narrowed by the community-type filter, so the period pickers stay
-- stable while the type filter changes. Reports whose community_id is not in
-- communities are ignored, as everywhere.
-- Parameters: $scope_streets

with
-- include: visible_communities

final as (
    select distinct s.month
    from safety as s
    inner join visible_communities using (community_id)
)

select * from final
order by month
