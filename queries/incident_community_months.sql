-- Grid events per community, month of occurrence and category, up to the end
-- of the month range: the additive counts the 平安建设 aggregates keep
-- (governance/spark/aggregates.py). From them the page rebuilds, for any
-- street, community type and months inside the run, the counts by month and
-- category, the count columns of the resolution table, the open backlog
-- (months before the range included) and the reconciliation with the
-- monthly reports.
-- One row per visible community × month × category with any incident that
-- occurred before the end of $month_to (any earlier month, so the open
-- backlog is kept), ordered by community_id, month, category.
-- Columns: community_id, month, category, incidents, resolved_incidents,
--   open_incidents (status not resolved, as of the data), major_incidents
--   (severity major), timed_resolutions (with a resolved_at, as in
--   incident_resolution_by_category),
--   open_over_30_days (open and occurred more than 30 days before $as_of).
-- Parameters: $scope_streets, $community_types, $month_to, $as_of

with
-- include: scoped_communities

final as (
    select
        i.community_id,
        cast(date_trunc('month', i.occurred_at) as date) as month,
        i.category,
        count(*) as incidents,
        count(*) filter (where i.status = 'resolved') as resolved_incidents,
        count(*) filter (where i.status <> 'resolved') as open_incidents,
        count(*) filter (where i.severity = 'major') as major_incidents,
        count(i.resolved_at) as timed_resolutions,
        count(*) filter (
            where i.status <> 'resolved' and i.occurred_at < $as_of - interval 30 day
        ) as open_over_30_days
    from incidents as i
    semi join scoped_communities as c using (community_id)
    where i.occurred_at < $month_to + interval 1 month
    group by all
)

select * from final
order by community_id, month, category
