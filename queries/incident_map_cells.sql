-- Grid events in the month range aggregated to map cells, so the map draws a
-- few thousand cells instead of millions of points.
-- One row per cell of $cell_deg_lon × $cell_deg_lat degrees holding any
-- incident with coordinates, ordered by incidents descending.
-- Columns: cell_lon, cell_lat (the cell's centre), incidents, open_incidents,
--   major_incidents, top_category (the most frequent category; ties → first
--   code alphabetically).
-- Parameters: $scope_streets, $community_types, $month_from, $month_to, $cell_deg_lon, $cell_deg_lat, $incident_categories

with
-- include: scoped_communities

located as (
    select
        cast(floor(i.lon / $cell_deg_lon) as bigint) as cell_x,
        cast(floor(i.lat / $cell_deg_lat) as bigint) as cell_y,
        i.category,
        i.status,
        i.severity
    from incidents as i
    semi join scoped_communities as c using (community_id)
    where i.occurred_at >= $month_from
      and i.occurred_at < $month_to + interval 1 month
      and i.lon is not null
      and i.lat is not null
      and list_contains($incident_categories, i.category)
),

per_category as (
    select cell_x, cell_y, category, count(*) as n
    from located
    group by all
),

top_categories as (
    select cell_x, cell_y, category as top_category
    from per_category
    qualify row_number() over (partition by cell_x, cell_y order by n desc, category) = 1
),

cells as (
    select
        cell_x,
        cell_y,
        count(*) as incidents,
        count(*) filter (where status <> 'resolved') as open_incidents,
        count(*) filter (where severity = 'major') as major_incidents
    from located
    group by all
),

final as (
    select
        (c.cell_x + 0.5) * $cell_deg_lon as cell_lon,
        (c.cell_y + 0.5) * $cell_deg_lat as cell_lat,
        c.incidents,
        c.open_incidents,
        c.major_incidents,
        t.top_category
    from cells as c
    inner join top_categories as t using (cell_x, cell_y)
)

select * from final
order by incidents desc, cell_lon, cell_lat
