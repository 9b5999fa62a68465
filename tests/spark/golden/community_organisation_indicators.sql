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
), computed AS (
  SELECT
    community_id,
    'O01' AS indicator_id,
    CAST(committee_members AS DOUBLE) AS value,
    CAST(CASE
      WHEN households <= :committee_small_max_households
      THEN :committee_members_small
      WHEN households <= :committee_medium_max_households
      THEN :committee_members_medium
      ELSE :committee_members_large
    END AS DOUBLE) AS community_floor,
    CAST(NULL AS DOUBLE) AS numerator,
    CAST(NULL AS DOUBLE) AS denominator
  FROM scoped_communities
  UNION ALL
  SELECT
    community_id,
    'O02',
    volunteers * CAST(1000.0 AS DOUBLE) / NULLIF(population, 0),
    NULL,
    volunteers,
    population
  FROM scoped_communities
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
