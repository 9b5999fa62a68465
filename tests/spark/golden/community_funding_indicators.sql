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
), funding_lines_timed AS (
  SELECT
    community_id,
    category,
    source,
    amount_yuan,
    allocated_date,
    disbursed_date,
    DATEDIFF(DAY, DATE_TRUNC('DAY', allocated_date), DATE_TRUNC('DAY', disbursed_date)) AS delay_days,
    CASE
      WHEN allocated_date IS NULL
      THEN 'undated'
      WHEN disbursed_date IS NULL
      THEN 'not_disbursed'
      WHEN DATEDIFF(DAY, DATE_TRUNC('DAY', allocated_date), DATE_TRUNC('DAY', disbursed_date)) <= :on_time_days
      THEN 'on_time'
      ELSE 'late'
    END AS timing
  FROM funding
  WHERE
    year = :year
), line_totals AS (
  SELECT
    community_id,
    COUNT(*) AS lines,
    SUM(amount_yuan) AS total_yuan,
    COALESCE(SUM(amount_yuan) FILTER(WHERE
      category = 'office'), 0) AS office_yuan,
    COALESCE(SUM(amount_yuan) FILTER(WHERE
      category = 'party_building'), 0) AS party_building_yuan,
    COALESCE(SUM(amount_yuan) FILTER(WHERE
      source <> 'fiscal'), 0) AS non_fiscal_yuan,
    COUNT(*) FILTER(WHERE
      timing IN ('on_time', 'late')) AS dated_lines,
    COUNT(*) FILTER(WHERE
      timing = 'on_time') AS on_time_lines
  FROM funding_lines_timed
  GROUP BY
    community_id
), inputs AS (
  SELECT
    c.*,
    CAST(l.total_yuan AS DOUBLE) AS total_yuan,
    CAST(l.office_yuan AS DOUBLE) AS office_yuan,
    CAST(l.party_building_yuan AS DOUBLE) AS party_building_yuan,
    CAST(l.non_fiscal_yuan AS DOUBLE) AS non_fiscal_yuan,
    l.dated_lines,
    l.on_time_lines
  FROM scoped_communities AS c
  LEFT JOIN line_totals AS l
    USING (community_id)
), computed AS (
  SELECT
    community_id,
    'M01' AS indicator_id,
    office_yuan AS value,
    CAST(NULL AS DOUBLE) AS numerator,
    CAST(NULL AS DOUBLE) AS denominator
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'M02',
    party_building_yuan,
    NULL,
    NULL
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'M03',
    total_yuan / NULLIF(households, 0),
    total_yuan,
    households
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'M04',
    non_fiscal_yuan * 100 / NULLIF(total_yuan, 0),
    non_fiscal_yuan,
    total_yuan
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'M05',
    on_time_lines * CAST(100.0 AS DOUBLE) / NULLIF(dated_lines, 0),
    on_time_lines,
    dated_lines
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'M06',
    CAST(staff_avg_monthly_pay AS DOUBLE) * 100 / NULLIF(CAST(:local_avg_monthly_wage_yuan AS DOUBLE), 0),
    staff_avg_monthly_pay,
    CAST(:local_avg_monthly_wage_yuan AS DOUBLE)
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'M07',
    certified_social_workers * CAST(100.0 AS DOUBLE) / NULLIF(staff_count, 0),
    certified_social_workers,
    staff_count
  FROM inputs
), final AS (
  SELECT
    v.community_id,
    v.indicator_id,
    CAST(v.value AS DOUBLE) AS value,
    t.floor_value,
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
        WHEN NOT t.floor_value IS NULL AND v.value >= t.floor_value
        THEN CASE WHEN t.target_value IS NULL THEN 'met' ELSE 'partly_met' END
        ELSE 'not_met'
      END
      WHEN t.direction = 'below'
      THEN CASE
        WHEN v.value < COALESCE(t.target_value, t.floor_value)
        THEN 'met'
        ELSE 'not_met'
      END
      WHEN t.direction = 'at_most'
      THEN CASE
        WHEN v.value <= COALESCE(t.target_value, t.floor_value)
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
