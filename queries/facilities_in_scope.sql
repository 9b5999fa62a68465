-- Facilities of the communities the viewer can see, for the map and the
-- closure picker of the coverage what-if.
-- One row per facility, ordered by facility_type, facility_id.
-- Parameters: $scope_streets, $community_types
with
-- include: scoped_communities

final as (
    select
        f.facility_id,
        f.facility_name,
        f.facility_type,
        f.status,
        f.area_m2,
        f.lon,
        f.lat,
        f.community_id,
        c.community_name,
        c.street
    from facilities as f
    inner join scoped_communities as c using (community_id)
)

select * from final
order by facility_type, facility_id
