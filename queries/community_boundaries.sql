-- Uploaded community boundaries for the communities the viewer can see.
-- One row per community with an uploaded boundary (geometry as GeoJSON text).
-- Parameters: $scope_streets, $community_types
with
-- include: scoped_communities

final as (
    select b.community_id, b.geometry_json
    from community_boundaries as b
    inner join scoped_communities as c using (community_id)
)

select * from final
order by community_id
