-- Scenarios an older version saved in DuckDB, copied once into the state store
-- (governance/scenarios.py: _migrate). One row per saved scenario.
select name, payload_json, changes, saved_at, saved_by from scenarios
