-- Replace the rows of incident_agg_community_months with the staged file's
-- (inside the import's transaction; governance/spark/aggregates.py).
delete from incident_agg_community_months;
insert into incident_agg_community_months by name select * from staged_aggregate;
