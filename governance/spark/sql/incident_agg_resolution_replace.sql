-- Replace the rows of incident_agg_resolution with the staged file's
-- (inside the import's transaction; governance/spark/aggregates.py).
delete from incident_agg_resolution;
insert into incident_agg_resolution by name select * from staged_aggregate;
