-- The communities the viewer may see, narrowed to the chosen community types:
-- every column of communities, plus community_no (its storage row, a compact
-- join key). $scope_streets comes from the signed-in account, never from a
-- widget: this is the one place the scope rule is written.
-- CTEs: scoped_communities
-- Parameters: $scope_streets, $community_types
scoped_communities as (
    select *, rowid as community_no
    from communities
    where list_contains($scope_streets, street)
      and list_contains($community_types, community_type)
),
