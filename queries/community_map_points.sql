-- Every located point of the communities the viewer can see, from which a
-- schematic community shape is derived when no boundary was uploaded:
-- residences, facilities and the community centroid.
-- One row per point (residence, facility or centroid).
-- Parameters: $scope_streets, $community_types
with
-- include: scoped_communities

points as (
    select r.community_id, r.lon, r.lat
    from residences as r
    inner join scoped_communities as c using (community_id)

    union all

    select f.community_id, f.lon, f.lat
    from facilities as f
    inner join scoped_communities as c using (community_id)
    where f.lon is not null and f.lat is not null

    union all

    select community_id, lon, lat
    from scoped_communities
    where lon is not null and lat is not null
),

final as (
    select community_id, lon, lat
    from points
)

select * from final
order by community_id, lon, lat
