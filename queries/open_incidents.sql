-- The open grid events (not resolved) that occurred up to the end of the month
-- range, oldest first: the backlog a meeting asks about, including cases older
-- than the range (in_range false).
-- One row per open incident, at most $row_limit rows, ordered by occurred_at,
-- incident_id.
-- Columns: incident_id, community_id, community_name, street, occurred_at,
--   category, severity, status, in_range, age_days (whole days from occurred_at
--   to $as_of), open_total (all open incidents matching, before the limit).
-- Parameters: $scope_streets, $community_types, $month_from, $month_to, $as_of, $row_limit

with
-- include: scoped_communities

open_events as (
    select
        i.incident_id,
        i.community_id,
        c.community_name,
        c.street,
        i.occurred_at,
        i.category,
        i.severity,
        i.status,
        i.occurred_at >= $month_from as in_range,
        date_diff('day', i.occurred_at, $as_of) as age_days
    from incidents as i
    inner join scoped_communities as c using (community_id)
    where i.status <> 'resolved'
      and i.occurred_at < $month_to + interval 1 month
),

final as (
    select *, count(*) over () as open_total
    from open_events
    order by occurred_at, incident_id
    limit $row_limit
)

select * from final
order by occurred_at, incident_id
