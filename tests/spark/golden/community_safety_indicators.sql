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
), reports AS (
  SELECT
    *
  FROM safety
  WHERE
    month BETWEEN :month_from AND :month_to
), period_months AS (
  SELECT
    COUNT(*) AS months_in_period
  FROM (
    SELECT
      EXPLODE(
        SEQUENCE(
          CAST(:month_from AS TIMESTAMP_NTZ),
          CAST(:month_to AS TIMESTAMP_NTZ),
          INTERVAL '1' MONTH
        )
      )
  )
), completeness AS (
  SELECT
    months_in_period,
    CAST(CEIL(
      ROUND(
        LEAST(GREATEST(CAST(:min_reported_months_pct AS DOUBLE), 0), 100) * months_in_period / CAST(100.0 AS DOUBLE),
        6
      )
    ) AS INT) AS months_required
  FROM period_months
), report_totals AS (
  SELECT
    community_id,
    COUNT(DISTINCT month) AS months_reported,
    SUM(disputes_mediated) FILTER(WHERE
      NOT disputes_received IS NULL AND NOT disputes_mediated IS NULL) AS s01_mediated,
    SUM(disputes_received) FILTER(WHERE
      NOT disputes_received IS NULL AND NOT disputes_mediated IS NULL) AS s01_received,
    SUM(disputes_resolved) FILTER(WHERE
      NOT disputes_mediated IS NULL AND NOT disputes_resolved IS NULL) AS s02_resolved,
    SUM(disputes_mediated) FILTER(WHERE
      NOT disputes_mediated IS NULL AND NOT disputes_resolved IS NULL) AS s02_mediated,
    SUM(reoffenders) AS reoffenders,
    AVG(correction_subjects) AS mean_correction_subjects,
    SUM(major_criminal_cases) AS major_criminal_cases,
    SUM(mass_incidents) AS mass_incidents,
    AVG(satisfaction_rate) AS mean_satisfaction_rate,
    SUM(police_hours) AS police_hours,
    COUNT(police_hours) AS police_hours_months,
    MAX_BY(legal_education_rate, month) FILTER(WHERE
      NOT legal_education_rate IS NULL) AS latest_legal_education_rate,
    CASE
      WHEN COUNT(criminal_cases) + COUNT(public_order_cases) > 0
      THEN COALESCE(SUM(criminal_cases), 0) + COALESCE(SUM(public_order_cases), 0)
    END AS cases
  FROM reports
  GROUP BY
    community_id
), inputs AS (
  SELECT
    c.*,
    r.*
    EXCEPT (community_id)
  FROM scoped_communities AS c
  LEFT JOIN report_totals AS r
    USING (community_id)
), reporting AS (
  SELECT
    c.community_id,
    COALESCE(r.months_reported, 0) AS months_reported,
    p.months_in_period,
    p.months_required,
    COALESCE(r.months_reported, 0) >= p.months_required AS enough_months
  FROM scoped_communities AS c
  CROSS JOIN completeness AS p
  LEFT JOIN report_totals AS r
    USING (community_id)
), computed AS (
  SELECT
    community_id,
    'S01' AS indicator_id,
    s01_mediated * CAST(100.0 AS DOUBLE) / NULLIF(s01_received, 0) AS value,
    CAST(s01_mediated AS DOUBLE) AS numerator,
    CAST(s01_received AS DOUBLE) AS denominator
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'S02',
    s02_resolved * CAST(100.0 AS DOUBLE) / NULLIF(s02_mediated, 0),
    s02_resolved,
    s02_mediated
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'S03',
    reoffenders * CAST(100.0 AS DOUBLE) / NULLIF(mean_correction_subjects, 0),
    reoffenders,
    mean_correction_subjects
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'S04',
    major_criminal_cases,
    NULL,
    NULL
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'S05',
    mass_incidents,
    NULL,
    NULL
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'S06',
    mean_satisfaction_rate,
    NULL,
    NULL
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'S07',
    police_hours / NULLIF(police_hours_months, 0),
    police_hours,
    police_hours_months
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'S08',
    latest_legal_education_rate,
    NULL,
    NULL
  FROM inputs
  UNION ALL
  SELECT
    community_id,
    'S09',
    cases * CAST(1000.0 AS DOUBLE) / NULLIF(population, 0),
    cases,
    population
  FROM inputs
), rated_values AS (
  SELECT
    v.*,
    t.direction,
    t.floor_value,
    t.target_value,
    r.months_reported,
    r.months_in_period,
    r.months_required,
    r.enough_months
    OR (
      v.indicator_id IN ('S04', 'S05')
      AND NOT v.value IS NULL
      AND CASE
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
      END <> 'met'
    ) AS rated
  FROM computed AS v
  INNER JOIN reporting AS r
    USING (community_id)
  LEFT JOIN standards AS t
    USING (indicator_id)
), final AS (
  SELECT
    v.community_id,
    v.indicator_id,
    CAST(CASE WHEN v.rated THEN v.value END AS DOUBLE) AS value,
    v.floor_value,
    v.target_value,
    CASE
      WHEN CASE WHEN v.rated THEN v.value END IS NULL
      THEN 'no_data'
      WHEN v.direction = 'none'
      THEN 'not_rated'
      WHEN v.direction = 'at_least'
      THEN CASE
        WHEN NOT v.target_value IS NULL
        AND CASE WHEN v.rated THEN v.value END >= v.target_value
        THEN 'met'
        WHEN NOT v.floor_value IS NULL AND CASE WHEN v.rated THEN v.value END >= v.floor_value
        THEN CASE WHEN v.target_value IS NULL THEN 'met' ELSE 'partly_met' END
        ELSE 'not_met'
      END
      WHEN v.direction = 'below'
      THEN CASE
        WHEN CASE WHEN v.rated THEN v.value END < COALESCE(v.target_value, v.floor_value)
        THEN 'met'
        ELSE 'not_met'
      END
      WHEN v.direction = 'at_most'
      THEN CASE
        WHEN CASE WHEN v.rated THEN v.value END <= COALESCE(v.target_value, v.floor_value)
        THEN 'met'
        ELSE 'not_met'
      END
    END AS status,
    CAST(CASE WHEN v.rated THEN v.numerator END AS DOUBLE) AS numerator,
    CAST(CASE WHEN v.rated THEN v.denominator END AS DOUBLE) AS denominator,
    c.community_name,
    c.street,
    c.community_type,
    CAST(v.months_reported AS INT) AS months_reported,
    CAST(v.months_in_period AS INT) AS months_in_period,
    CAST(v.months_required AS INT) AS months_required
  FROM rated_values AS v
  INNER JOIN scoped_communities AS c
    USING (community_id)
)
SELECT
  *
FROM final
ORDER BY
  community_id NULLS LAST,
  indicator_id NULLS LAST
