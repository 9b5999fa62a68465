-- One community's grid events per month from the imported 平安建设 aggregates
-- (incident_agg_community_months), for the drill-down when the page reads
-- the aggregates: the incidents and open_incidents columns of
-- safety_community_months.
-- One row per month in $month_from..$month_to with any incident of the
-- community (months without are 0, filled by governance/safety.py), oldest
-- first. No row when the community is outside the viewer's scope or the type
-- filter.
-- Columns: month, incidents, open_incidents (grid events that occurred that
--   month and are not resolved).
-- Parameters: $scope_streets, $community_types, $month_from, $month_to, $community_id

with
-- include: scoped_communities

final as (
    select
        a.month,
        cast(sum(a.incidents) as bigint) as incidents,
        cast(sum(a.open_incidents) as bigint) as open_incidents
    from incident_agg_community_months as a
    semi join scoped_communities as c using (community_id)
    where a.community_id = $community_id
      and a.month between $month_from and $month_to
    group by a.month
)

select * from final
order by month
