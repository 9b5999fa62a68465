-- The open grid events up to the end of the month range, oldest first, from
-- the imported 平安建设 aggregates: the same rows open_incidents gives on raw
-- events (each community's oldest open cases are kept, so any filter's oldest
-- are among them; the total adds up from the per-community months).
-- One row per open incident, at most $row_limit rows, ordered by occurred_at,
-- incident_id.
-- Columns: incident_id, community_id, community_name, street, occurred_at,
--   category, severity, status, in_range, age_days (whole days from occurred_at
--   to $as_of), open_total (all open incidents matching, before the limit).
-- Parameters: $scope_streets, $community_types, $month_from, $month_to, $as_of, $row_limit

with
-- include: scoped_communities

open_total as (
    select cast(coalesce(sum(a.open_incidents), 0) as bigint) as open_total
    from incident_agg_community_months as a
    semi join scoped_communities as c using (community_id)
    where a.month <= $month_to
),

open_events as (
    select
        o.incident_id,
        o.community_id,
        c.community_name,
        c.street,
        o.occurred_at,
        o.category,
        o.severity,
        o.status,
        o.occurred_at >= $month_from as in_range,
        date_diff('day', o.occurred_at, $as_of) as age_days
    from incident_agg_open_oldest as o
    inner join scoped_communities as c using (community_id)
    where o.occurred_at < $month_to + interval 1 month
),

final as (
    select e.*, t.open_total
    from open_events as e
    cross join open_total as t
    order by e.occurred_at, e.incident_id
    limit $row_limit
)

select * from final
order by occurred_at, incident_id
