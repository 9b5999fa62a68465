-- The monthly safety reports set beside grid-event counts, measure by
-- measure: what incident_report_reconciliation (raw events) and
-- agg_incident_report_reconciliation (an imported Spark run) both compare.
-- Needs, before it in the with list: scoped_communities, checked
--   (community_id, community_name, street, month: the community-months
--   compared), incident_counts (community_id, month and one count column per
--   measure: criminal_cases, major_criminal_cases, public_order_cases,
--   fire_incidents, disputes_received, mass_incidents, petitions).
-- CTEs: incident_long, report_long, measures, compared (community_id,
--   community_name, street, month, measure, reported_count: NULL when not
--   reported, incident_count).
-- Parameters: $month_from, $month_to
incident_long as (
    unpivot incident_counts
    on criminal_cases, major_criminal_cases, public_order_cases, fire_incidents,
        disputes_received, mass_incidents, petitions
    into name measure value incident_count
),

report_long as (
    unpivot (
        select
            community_id, month, criminal_cases, major_criminal_cases, public_order_cases,
            fire_incidents, disputes_received, mass_incidents, petitions
        from safety
        semi join scoped_communities using (community_id)
        where month between $month_from and $month_to
    )
    on criminal_cases, major_criminal_cases, public_order_cases, fire_incidents,
        disputes_received, mass_incidents, petitions
    into name measure value reported_count
),

measures as (
    select unnest([
        'criminal_cases', 'major_criminal_cases', 'public_order_cases', 'fire_incidents',
        'disputes_received', 'mass_incidents', 'petitions'
    ]) as measure
),

compared as (
    select
        k.community_id,
        k.community_name,
        k.street,
        k.month,
        m.measure,
        r.reported_count,
        coalesce(i.incident_count, 0) as incident_count
    from checked as k
    cross join measures as m
    left join report_long as r
        on r.community_id = k.community_id and r.month = k.month and r.measure = m.measure
    left join incident_long as i
        on i.community_id = k.community_id and i.month = k.month and i.measure = m.measure
),
