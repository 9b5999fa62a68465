-- The streets the viewer may see, with their number of communities (feeds the
-- street filter).
-- One row per street, ordered by street.
-- Scope only: deliberately not narrowed by the community-type filter, so choosing a type
-- never removes a street from the street filter's choices.
-- Parameters: $scope_streets

with
-- include: visible_communities

final as (
    select street, count(*) as communities
    from visible_communities
    group by street
)

select * from final
order by street
