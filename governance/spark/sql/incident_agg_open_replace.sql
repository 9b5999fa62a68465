-- Replace the rows of incident_agg_open with the staged file's
-- (inside the import's transaction; governance/spark/aggregates.py).
delete from incident_agg_open;
insert into incident_agg_open by name select * from staged_aggregate;
