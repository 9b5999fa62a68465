-- The community_type codes present among the communities the viewer may see,
-- with their number of communities (feeds the type filter).
-- One row per community_type, ordered by community_type.
-- Scope only: deliberately not narrowed by the type filter itself.
-- Parameters: $scope_streets

with
-- include: visible_communities

final as (
    select community_type, count(*) as communities
    from visible_communities
    group by community_type
)

select * from final
order by community_type
