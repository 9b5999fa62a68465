-- Replace the rows of incident_agg_reconciliation with the staged file's
-- (inside the import's transaction; governance/spark/aggregates.py).
delete from incident_agg_reconciliation;
insert into incident_agg_reconciliation by name select * from staged_aggregate;
