-- The catalogue's thresholds under the applied scenario, one row per
-- indicator: the input of indicator_status().
-- CTEs: standards (indicator_id, direction, floor_value, target_value)
-- Parameters: $thresholds
standards as (
    select s.indicator_id, s.direction, s.floor_value, s.target_value
    from (select unnest($thresholds) as s)
),
