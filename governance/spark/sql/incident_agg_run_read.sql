-- The imported run the 平安建设 page reads: its month range, as-of time,
-- streets, engine and source, with the run's own event count and mean
-- latitude (incident_agg_summary, one row per run).
-- One row per imported run (none or one).
select
    r.month_from,
    r.month_to,
    r.as_of,
    r.scope_streets,
    r.engine,
    r.source,
    r.computed_at,
    r.imported_at,
    s.incidents,
    s.mean_lat
from incident_agg_runs as r
cross join incident_agg_summary as s
