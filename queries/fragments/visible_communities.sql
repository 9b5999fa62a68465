-- The communities the viewer may see, whatever the type filter: for the
-- lists a filter is chosen from (streets, types, years, months).
-- CTEs: visible_communities
-- Parameters: $scope_streets
visible_communities as (
    select *
    from communities
    where list_contains($scope_streets, street)
),
