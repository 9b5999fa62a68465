-- What the coverage figures rest on, for the page's note: residences (楼栋/网格)
-- when any are loaded, else community centroids weighted by households.
-- One row per database (always exactly one row).
-- Columns: basis ('residences' | 'centroids'), communities (visible),
--   points (visible residences, or visible communities with coordinates),
--   communities_without_points (visible communities coverage cannot rate for
--   lack of points), facilities_located (facilities with coordinates, any
--   community and status).
-- Parameters: $scope_streets, $community_types

with scoped_communities as (
    select community_id, lon, lat
    from communities
    where list_contains($scope_streets, street)
      and list_contains($community_types, community_type)
),

residences_loaded as (
    select count(*) > 0 as is_loaded
    from residences
),

point_counts as (
    select c.community_id, count(r.residence_id) as residences, c.lon, c.lat
    from scoped_communities as c
    left join residences as r using (community_id)
    group by c.community_id, c.lon, c.lat
),

final as (
    select
        case when l.is_loaded then 'residences' else 'centroids' end as basis,
        count(p.community_id) as communities,
        coalesce(sum(
            case
                when l.is_loaded then p.residences
                when p.lon is not null and p.lat is not null then 1
                else 0
            end
        ), 0)::bigint as points,
        count(p.community_id) filter (
            where (l.is_loaded and p.residences = 0)
               or (not l.is_loaded and (p.lon is null or p.lat is null))
        ) as communities_without_points,
        (select count(*) from facilities where lon is not null and lat is not null)
            as facilities_located
    from residences_loaded as l
    left join point_counts as p on true
    group by l.is_loaded
)

select * from final
