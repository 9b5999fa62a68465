-- One community's months, for the drill-down from the district: its monthly
-- reports, the monthly indicator values and its grid events.
-- One row per month in $month_from..$month_to (months without a report too,
-- has_report false and every measure NULL), oldest first. No row when the
-- community is outside the viewer's scope or the type filter.
-- Columns: community_id, month, has_report, every safety report column,
--   mediation_rate_pct (S01), mediation_success_pct (S02), reoffending_pct (S03),
--   cases_per_1000 (S09), incidents, open_incidents (grid events that occurred
--   that month; 0 when none).
-- Parameters: $scope_streets, $community_types, $month_from, $month_to, $community_id

with
-- include: scoped_communities

community as (
    select community_id, population
    from scoped_communities
    where community_id = $community_id
),

months as (
    select cast(unnest(generate_series(
        cast($month_from as timestamp), cast($month_to as timestamp), interval 1 month
    )) as date) as month
),

reports as (
    select s.* exclude (import_id)
    from safety as s
    inner join community as c using (community_id)
    where s.month between $month_from and $month_to
),

events as (
    select
        cast(date_trunc('month', i.occurred_at) as date) as month,
        count(*) as incidents,
        count(*) filter (where i.status <> 'resolved') as open_incidents
    from incidents as i
    inner join community as c using (community_id)
    where i.occurred_at >= $month_from
      and i.occurred_at < $month_to + interval 1 month
    group by 1
),

final as (
    select
        c.community_id,
        m.month,
        r.community_id is not null as has_report,
        r.* exclude (community_id, month),
        r.disputes_mediated * 100.0 / nullif(r.disputes_received, 0) as mediation_rate_pct,
        r.disputes_resolved * 100.0 / nullif(r.disputes_mediated, 0) as mediation_success_pct,
        r.reoffenders * 100.0 / nullif(r.correction_subjects, 0) as reoffending_pct,
        case
            when r.criminal_cases is not null or r.public_order_cases is not null
                then (coalesce(r.criminal_cases, 0) + coalesce(r.public_order_cases, 0))
                    * 1000.0 / nullif(c.population, 0)
        end as cases_per_1000,
        coalesce(e.incidents, 0) as incidents,
        coalesce(e.open_incidents, 0) as open_incidents
    from community as c
    cross join months as m
    left join reports as r on r.month = m.month
    left join events as e on e.month = m.month
)

select * from final
order by month
