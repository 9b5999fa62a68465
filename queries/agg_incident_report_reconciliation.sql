-- Do the grid events add up to the monthly safety reports? The same rows
-- incident_report_reconciliation gives on raw events, with the event counts
-- taken from the imported 平安建设 aggregates (incident_agg_community_months)
-- and the reports from this dashboard's own safety table: a report imported
-- after the run is reconciled against too. The months compared are those in
-- range in which the run logged any event (over the run's communities).
-- One row per community × month × measure where the counts differ or the
-- report is missing: disagreements between two numbers first, then the
-- missing report figures; each ordered by month, street, community_id, measure.
-- Columns: community_id, community_name, street, month, measure,
--   reported_count (NULL: not reported), incident_count, difference_count
--   (incident_count − reported_count; NULL when not reported),
--   checked_community_months (community-months compared, the same on every row).
-- Rules: the category → column mapping is governance.contract.INCIDENT_REPORT_COLUMNS,
--   as in incident_report_reconciliation (a test holds the two together).
-- Parameters: $scope_streets, $community_types, $month_from, $month_to

with
-- include: scoped_communities

logged_months as (
    select distinct a.month
    from incident_agg_community_months as a
    where a.month between $month_from and $month_to
      and a.incidents > 0
),

checked as (
    select c.community_id, c.community_name, c.street, m.month
    from scoped_communities as c
    cross join logged_months as m
),

incident_counts as (
    select
        a.community_id,
        a.month,
        cast(coalesce(sum(a.incidents) filter (where a.category = 'criminal'), 0) as bigint)
            as criminal_cases,
        cast(coalesce(sum(a.major_incidents) filter (where a.category = 'criminal'), 0)
            as bigint) as major_criminal_cases,
        cast(coalesce(sum(a.incidents) filter (where a.category = 'public_order'), 0)
            as bigint) as public_order_cases,
        cast(coalesce(sum(a.incidents) filter (where a.category = 'fire'), 0) as bigint)
            as fire_incidents,
        cast(coalesce(sum(a.incidents) filter (where a.category = 'dispute'), 0) as bigint)
            as disputes_received,
        cast(coalesce(sum(a.incidents) filter (where a.category = 'mass_incident'), 0)
            as bigint) as mass_incidents,
        cast(coalesce(sum(a.incidents) filter (where a.category = 'petition'), 0) as bigint)
            as petitions
    from incident_agg_community_months as a
    semi join scoped_communities as c on c.community_id = a.community_id
    where a.month between $month_from and $month_to
    group by all
),

-- include: reports_against_events

final as (
    select
        community_id,
        community_name,
        street,
        month,
        measure,
        reported_count,
        incident_count,
        incident_count - reported_count as difference_count,
        (select count(*) from checked) as checked_community_months
    from compared
    where reported_count is null or incident_count <> reported_count
)

select * from final
order by reported_count is null, month, street, community_id, measure
