-- The oldest open grid events of each community (not resolved) that occurred
-- up to the end of the month range: what the 平安建设 aggregates keep so the
-- page can list the oldest open cases of any street or community type.
-- Whichever communities a filter keeps, its $row_limit oldest cases are among
-- their lists, so the page's list is exact (governance/spark/aggregates.py).
-- One row per open incident that is among its community's $row_limit oldest,
-- ordered by community_id, occurred_at, incident_id.
-- Columns: incident_id, community_id, occurred_at, category, severity, status.
-- Parameters: $scope_streets, $community_types, $month_to, $row_limit

with
-- include: scoped_communities

open_events as (
    select i.incident_id, i.community_id, i.occurred_at, i.category, i.severity, i.status
    from incidents as i
    semi join scoped_communities as c using (community_id)
    where i.status <> 'resolved'
      and i.occurred_at < $month_to + interval 1 month
),

-- The rank is a named column dropped in final: Spark has no QUALIFY, and the
-- translation's subquery would otherwise add its own column to `select *`.
ranked as (
    select
        *,
        row_number() over (
            partition by community_id order by occurred_at, incident_id
        ) as open_rank
    from open_events
),

final as (
    select incident_id, community_id, occurred_at, category, severity, status
    from ranked
    where open_rank <= $row_limit
)

select * from final
order by community_id, occurred_at, incident_id
