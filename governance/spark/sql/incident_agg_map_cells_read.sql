-- The imported run's map cells (default cell size, every category, the
-- run's whole scope and month range), as queries/incident_map_cells.sql orders them.
-- One row per cell.
select cell_lon, cell_lat, incidents, open_incidents, major_incidents, top_category
from incident_agg_map_cells
order by incidents desc, cell_lon, cell_lat
