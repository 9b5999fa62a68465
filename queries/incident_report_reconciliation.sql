-- Do the grid events add up to the monthly safety reports? For every visible
-- community and every month in range in which the grid system logged any
-- event (district-wide), each reported count is compared with the number of
-- incidents of its category; only the disagreements are returned.
-- One row per community × month × measure where the counts differ or the
-- report is missing: disagreements between two numbers first, then the
-- missing report figures; each ordered by month, street, community_id, measure.
-- Columns: community_id, community_name, street, month, measure (the report
--   column: criminal_cases, major_criminal_cases (criminal incidents of severity
--   major), public_order_cases, fire_incidents, disputes_received,
--   mass_incidents, petitions), reported_count (NULL: not reported),
--   incident_count, difference_count (incident_count − reported_count; NULL when
--   not reported), checked_community_months (community-months compared, the
--   same on every row).
-- Rules: the category → column mapping is governance.contract.INCIDENT_REPORT_COLUMNS
--   (a test holds the two together). A missing report row counts as not reported.
-- Parameters: $scope_streets, $community_types, $month_from, $month_to

with
-- include: scoped_communities

-- Read from incidents twice rather than through one shared CTE: DuckDB
-- materialises a CTE used twice (10,000,000 rows at a province), and only the
-- months need every street's events.
logged_months as (
    select distinct cast(date_trunc('month', d.day) as date) as month
    from (
        -- Days first: a cast per event is cheaper than a date_trunc per
        -- event, and this scan reads every street's events.
        select distinct cast(i.occurred_at as date) as day
        from incidents as i
        where i.occurred_at >= $month_from
          and i.occurred_at < $month_to + interval 1 month
    ) as d
),

checked as (
    select c.community_id, c.community_name, c.street, m.month
    from scoped_communities as c
    cross join logged_months as m
),

incident_counts as (
    select
        i.community_id,
        cast(date_trunc('month', i.occurred_at) as date) as month,
        count(*) filter (where category = 'criminal') as criminal_cases,
        count(*) filter (where category = 'criminal' and severity = 'major')
            as major_criminal_cases,
        count(*) filter (where category = 'public_order') as public_order_cases,
        count(*) filter (where category = 'fire') as fire_incidents,
        count(*) filter (where category = 'dispute') as disputes_received,
        count(*) filter (where category = 'mass_incident') as mass_incidents,
        count(*) filter (where category = 'petition') as petitions
    from incidents as i
    semi join scoped_communities as c on c.community_id = i.community_id
    where i.occurred_at >= $month_from
      and i.occurred_at < $month_to + interval 1 month
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
