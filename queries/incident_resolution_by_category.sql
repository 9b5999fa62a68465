-- How fast grid events are resolved, per category and in total, for events that
-- occurred in the month range.
-- One row per category with any incident in range, plus one total row
-- (category NULL, is_total true) when there is any; total first, then by
-- category.
-- Columns: category, is_total, incidents, resolved_incidents, resolved_pct,
--   timed_resolutions (resolved with a resolved_at), median_resolution_hours,
--   p90_resolution_hours (over timed resolutions; NULL when none),
--   open_incidents, open_over_30_days (open and occurred more than 30 days
--   before $as_of).
-- Parameters: $scope_streets, $community_types, $month_from, $month_to, $as_of

with
-- include: scoped_communities

events as (
    select
        i.category,
        i.status,
        i.occurred_at,
        date_diff('second', i.occurred_at, i.resolved_at) / 3600.0 as resolution_hours
    from incidents as i
    semi join scoped_communities as c using (community_id)
    where i.occurred_at >= $month_from
      and i.occurred_at < $month_to + interval 1 month
),

final as (
    select
        category,
        grouping(category) = 1 as is_total,
        count(*) as incidents,
        count(*) filter (where status = 'resolved') as resolved_incidents,
        count(*) filter (where status = 'resolved') * 100.0 / count(*) as resolved_pct,
        count(resolution_hours) as timed_resolutions,
        quantile_cont(resolution_hours, 0.5) as median_resolution_hours,
        quantile_cont(resolution_hours, 0.9) as p90_resolution_hours,
        count(*) filter (where status <> 'resolved') as open_incidents,
        count(*) filter (
            where status <> 'resolved' and occurred_at < $as_of - interval 30 day
        ) as open_over_30_days
    from events
    group by grouping sets ((category), ())
    having count(*) > 0
)

select * from final
order by is_total desc, category
