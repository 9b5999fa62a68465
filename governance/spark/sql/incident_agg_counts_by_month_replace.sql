-- Replace the rows of incident_agg_counts_by_month with the staged file's
-- (inside the import's transaction; governance/spark/aggregates.py).
delete from incident_agg_counts_by_month;
insert into incident_agg_counts_by_month by name select * from staged_aggregate;
