-- What the coverage figures rest on, for the page's note. Each community has
-- its own basis: its residences (楼栋/网格) when it has any, else its centre
-- weighted by its households.
-- One row per database (always exactly one row).
-- Columns: basis ('residences' when every visible community with a point rests
--   on residences, 'centroids' when every one rests on its centre, else
--   'mixed'), communities (visible), communities_on_residences,
--   communities_on_centroids (no residences, centre coordinates given),
--   communities_without_points (neither: coverage cannot rate them), points
--   (visible residences plus centres used), facilities_located (facilities with
--   coordinates, any community and status).
-- Parameters: $scope_streets, $community_types

with
-- include: scoped_communities

residence_counts as (
    select community_id, count(*) as residences
    from residences
    semi join scoped_communities using (community_id)
    group by community_id
),

community_basis as (
    select
        c.community_id,
        coalesce(r.residences, 0) as residences,
        case
            when r.residences > 0 then 'residences'
            when c.lon is not null and c.lat is not null then 'centroids'
        end as basis
    from scoped_communities as c
    left join residence_counts as r using (community_id)
),

counts as (
    select
        count(*) as communities,
        count(*) filter (where basis = 'residences') as communities_on_residences,
        count(*) filter (where basis = 'centroids') as communities_on_centroids,
        count(*) filter (where basis is null) as communities_without_points,
        coalesce(sum(residences), 0)::bigint
            + count(*) filter (where basis = 'centroids') as points
    from community_basis
),

final as (
    select
        case
            when communities_on_centroids = 0 and communities_on_residences > 0 then 'residences'
            when communities_on_residences = 0 then 'centroids'
            else 'mixed'
        end as basis,
        communities,
        communities_on_residences,
        communities_on_centroids,
        communities_without_points,
        points,
        (select count(*) from facilities where lon is not null and lat is not null)
            as facilities_located
    from counts
)

select * from final
