-- Whether grid events exist for the viewer, and the time the event data runs
-- to (the "as of" for the age of open cases).
-- One row per call (always one, even with no incidents).
-- Columns: incidents (all visible incidents, any time), first_occurred_at,
--   mean_lat (of visible incidents with coordinates: sizes map cells),
--   data_as_of (the latest occurred_at or resolved_at in the whole table, so
--   ages do not depend on the filters).
-- Parameters: $scope_streets, $community_types

with
-- include: scoped_communities

visible as (
    select
        count(*) as incidents,
        min(i.occurred_at) as first_occurred_at,
        avg(i.lat) as mean_lat
    from incidents as i
    semi join scoped_communities as c using (community_id)
),

recorded as (
    select greatest(max(occurred_at), max(resolved_at)) as data_as_of
    from incidents
),

final as (
    select v.incidents, v.first_occurred_at, v.mean_lat, r.data_as_of
    from visible as v
    cross join recorded as r
)

select * from final
