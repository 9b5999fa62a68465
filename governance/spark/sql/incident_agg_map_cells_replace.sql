-- Replace the rows of incident_agg_map_cells with the staged file's
-- (inside the import's transaction; governance/spark/aggregates.py).
delete from incident_agg_map_cells;
insert into incident_agg_map_cells by name select * from staged_aggregate;
