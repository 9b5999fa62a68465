-- Replace the rows of incident_agg_open_oldest with the staged file's
-- (inside the import's transaction; governance/spark/aggregates.py).
delete from incident_agg_open_oldest;
insert into incident_agg_open_oldest by name select * from staged_aggregate;
