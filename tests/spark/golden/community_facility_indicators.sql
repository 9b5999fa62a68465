WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), standards AS (
  SELECT
    s.indicator_id,
    s.direction,
    s.floor_value,
    s.target_value
  FROM (
    SELECT
      EXPLODE(:thresholds) AS s
  )
), facilities_loaded AS (
  SELECT
    COUNT(*) > 0 AS is_loaded
  FROM facilities
), in_use_facilities AS (
  SELECT
    community_id,
    facility_type,
    area_m2
  FROM facilities
  WHERE
    status = 'in_use'
), basic_types_present AS (
  SELECT
    community_id,
    COUNT(DISTINCT facility_type) AS types_present
  FROM in_use_facilities
  WHERE
    ARRAY_CONTAINS(:basic_facility_types, facility_type)
  GROUP BY
    community_id
), elderly_area AS (
  SELECT
    community_id,
    COUNT(*) AS elderly_facilities,
    SUM(area_m2) AS elderly_area_m2
  FROM in_use_facilities
  WHERE
    ARRAY_CONTAINS(:elderly_facility_types, facility_type)
  GROUP BY
    community_id
), inputs AS (
  SELECT
    c.*,
    l.is_loaded AS facilities_loaded,
    SIZE(ARRAY_DISTINCT(:basic_facility_types)) AS basic_types_required,
    CASE WHEN l.is_loaded THEN COALESCE(b.types_present, 0) END AS basic_types_present,
    CASE
      WHEN NOT l.is_loaded
      THEN NULL
      WHEN e.elderly_facilities IS NULL
      THEN CAST(0.0 AS DOUBLE)
      ELSE e.elderly_area_m2
    END AS elderly_area_m2
  FROM scoped_communities AS c
  CROSS JOIN facilities_loaded AS l
  LEFT JOIN basic_types_present AS b
    USING (community_id)
  LEFT JOIN elderly_area AS e
    USING (community_id)
), computed AS (
  SELECT
    community_id,
    'F01' AS indicator_id,
    office_area_m2 / NULLIF(households, 0) * 100 AS value,
    CAST(NULL AS DOUBLE) AS community_floor,
    CAST(office_area_m2 AS DOUBLE) AS numerator,
    CAST(households AS DOUBLE) AS denominator
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'F02',
    office_area_m2,
    CASE
      WHEN community_type = 'rural'
      THEN CAST(:rural_office_area_floor_m2 AS DOUBLE)
    END,
    NULL,
    NULL
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'F04',
    basic_types_present * CAST(100.0 AS DOUBLE) / NULLIF(basic_types_required, 0),
    NULL,
    basic_types_present,
    basic_types_required
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'F05',
    elderly_area_m2 / NULLIF(households, 0) * 100,
    NULL,
    elderly_area_m2,
    households
  FROM inputs
), final AS (
  SELECT
    v.community_id,
    v.indicator_id,
    CAST(v.value AS DOUBLE) AS value,
    COALESCE(v.community_floor, t.floor_value) AS floor_value,
    t.target_value,
    CASE
      WHEN v.value IS NULL
      THEN 'no_data'
      WHEN t.direction = 'none'
      THEN 'not_rated'
      WHEN t.direction = 'at_least'
      THEN CASE
        WHEN NOT t.target_value IS NULL AND v.value >= t.target_value
        THEN 'met'
        WHEN NOT COALESCE(v.community_floor, t.floor_value) IS NULL
        AND v.value >= COALESCE(v.community_floor, t.floor_value)
        THEN CASE WHEN t.target_value IS NULL THEN 'met' ELSE 'partly_met' END
        ELSE 'not_met'
      END
      WHEN t.direction = 'below'
      THEN CASE
        WHEN v.value < COALESCE(t.target_value, COALESCE(v.community_floor, t.floor_value))
        THEN 'met'
        ELSE 'not_met'
      END
      WHEN t.direction = 'at_most'
      THEN CASE
        WHEN v.value <= COALESCE(t.target_value, COALESCE(v.community_floor, t.floor_value))
        THEN 'met'
        ELSE 'not_met'
      END
    END AS status,
    CAST(v.numerator AS DOUBLE) AS numerator,
    CAST(v.denominator AS DOUBLE) AS denominator,
    c.community_name,
    c.street,
    c.community_type
  FROM computed AS v
  INNER JOIN scoped_communities AS c
    USING (community_id)
  LEFT JOIN standards AS t
    USING (indicator_id)
)
SELECT
  *
FROM final
ORDER BY
  community_id NULLS LAST,
  indicator_id NULLS LAST
