-- Which incident_agg_* tables this database holds (none before the first
-- import-aggregates; a run imported by an older version lacks the newer ones).
-- One row per table: table_name.
select table_name
from duckdb_tables()
where database_name = current_database()
  and schema_name = current_schema()
  and table_name like 'incident_agg_%'
order by table_name
