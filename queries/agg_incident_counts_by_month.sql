-- Grid events per month and category from the imported 平安建设 aggregates
-- (incident_agg_community_months): the same rows incident_counts_by_month
-- gives on raw events, for months inside the imported run.
-- One row per month in $month_from..$month_to × category with any incident in
-- that range (empty months get zero counts), oldest month first, then category.
-- No row at all when no incident occurred in the range.
-- Columns: month, category, incidents, resolved_incidents, open_incidents,
--   major_incidents.
-- Parameters: $scope_streets, $community_types, $month_from, $month_to

with
-- include: scoped_communities

months as (
    select cast(unnest(generate_series(
        cast($month_from as timestamp), cast($month_to as timestamp), interval 1 month
    )) as date) as month
),

events as (
    select
        a.month,
        a.category,
        cast(sum(a.incidents) as bigint) as incidents,
        cast(sum(a.resolved_incidents) as bigint) as resolved_incidents,
        cast(sum(a.open_incidents) as bigint) as open_incidents,
        cast(sum(a.major_incidents) as bigint) as major_incidents
    from incident_agg_community_months as a
    semi join scoped_communities as c using (community_id)
    where a.month between $month_from and $month_to
    group by all
),

categories as (
    select distinct category
    from events
),

final as (
    select
        m.month,
        k.category,
        coalesce(e.incidents, 0) as incidents,
        coalesce(e.resolved_incidents, 0) as resolved_incidents,
        coalesce(e.open_incidents, 0) as open_incidents,
        coalesce(e.major_incidents, 0) as major_incidents
    from months as m
    cross join categories as k
    left join events as e on e.month = m.month and e.category = k.category
)

select * from final
order by month, category
