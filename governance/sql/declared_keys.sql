-- The primary keys the database holds, one row per table that has one:
-- table_name, key_columns (in declared order).
select table_name, constraint_column_names as key_columns
from duckdb_constraints()
where constraint_type = 'PRIMARY KEY'
  and database_name = current_database()
  and schema_name = 'main'
