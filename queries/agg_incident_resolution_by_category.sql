-- How fast grid events are resolved, per category and in total, from the
-- imported 平安建设 aggregates: the counts add up from the per-community
-- months for any street, type and months inside the run; a median or 90th
-- percentile does not add up, so those come from the run's own table
-- (incident_agg_resolution) and only when $run_quantiles says the view is
-- the run's whole scope and month range; otherwise they are NULL.
-- One row per category with any incident in range, plus one total row
-- (category NULL, is_total true) when there is any; total first, then by
-- category.
-- Columns: as incident_resolution_by_category: category, is_total, incidents,
--   resolved_incidents, resolved_pct, timed_resolutions,
--   median_resolution_hours, p90_resolution_hours, open_incidents,
--   open_over_30_days.
-- Parameters: $scope_streets, $community_types, $month_from, $month_to, $run_quantiles

with
-- include: scoped_communities

counted as (
    select
        a.category,
        grouping(a.category) = 1 as is_total,
        cast(sum(a.incidents) as bigint) as incidents,
        cast(sum(a.resolved_incidents) as bigint) as resolved_incidents,
        cast(sum(a.timed_resolutions) as bigint) as timed_resolutions,
        cast(sum(a.open_incidents) as bigint) as open_incidents,
        cast(sum(a.open_over_30_days) as bigint) as open_over_30_days
    from incident_agg_community_months as a
    semi join scoped_communities as c using (community_id)
    where a.month between $month_from and $month_to
    group by grouping sets ((a.category), ())
    having sum(a.incidents) > 0
),

final as (
    select
        k.category,
        k.is_total,
        k.incidents,
        k.resolved_incidents,
        k.resolved_incidents * 100.0 / k.incidents as resolved_pct,
        k.timed_resolutions,
        case when $run_quantiles then r.median_resolution_hours end
            as median_resolution_hours,
        case when $run_quantiles then r.p90_resolution_hours end as p90_resolution_hours,
        k.open_incidents,
        k.open_over_30_days
    from counted as k
    left join incident_agg_resolution as r
        on r.is_total = k.is_total and r.category is not distinct from k.category
)

select * from final
order by is_total desc, category
