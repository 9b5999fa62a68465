-- Replace the rows of incident_agg_summary with the staged file's
-- (inside the import's transaction; governance/spark/aggregates.py).
delete from incident_agg_summary;
insert into incident_agg_summary by name select * from staged_aggregate;
