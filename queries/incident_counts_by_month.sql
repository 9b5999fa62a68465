-- Grid events per month and category, for the stacked monthly chart.
-- One row per month in $month_from..$month_to × category with any incident in
-- that range (empty months get zero counts), oldest month first, then category.
-- No row at all when no incident occurred in the range.
-- Columns: month, category, incidents, resolved_incidents, open_incidents
--   (status not resolved, as of the data), major_incidents (severity major).
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
        cast(date_trunc('month', i.occurred_at) as date) as month,
        i.category,
        count(*) as incidents,
        count(*) filter (where i.status = 'resolved') as resolved_incidents,
        count(*) filter (where i.status <> 'resolved') as open_incidents,
        count(*) filter (where i.severity = 'major') as major_incidents
    from incidents as i
    semi join scoped_communities as c using (community_id)
    where i.occurred_at >= $month_from
      and i.occurred_at < $month_to + interval 1 month
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
