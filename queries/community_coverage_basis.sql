-- What each visible community's coverage figures rest on: its residences
-- (楼栋/网格) when it has any, else its centre weighted by its households.
-- A community's row does not depend on which others are in view, so a scope's
-- rows serve every street/type filter (coverage.basis_summary adds them up).
-- One row per visible community, ordered by community_id.
-- Columns: community_id, residences (its residences), basis ('residences';
--   'centroids': no residences, centre coordinates given; null: neither, so
--   coverage cannot rate it).
-- Parameters: $scope_streets, $community_types

with
-- include: scoped_communities

residence_counts as (
    select community_id, count(*) as residences
    from residences
    semi join scoped_communities using (community_id)
    group by community_id
),

final as (
    select
        c.community_id,
        coalesce(r.residences, 0) as residences,
        case
            when r.residences > 0 then 'residences'
            when c.lon is not null and c.lat is not null then 'centroids'
        end as basis
    from scoped_communities as c
    left join residence_counts as r using (community_id)
)

select * from final
order by community_id
