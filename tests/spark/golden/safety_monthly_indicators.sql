WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), months AS (
  SELECT
    CAST(_u1._u1_value AS DATE) AS month
  FROM (
    SELECT
      EXPLODE(
        SEQUENCE(
          CAST(:month_from AS TIMESTAMP_NTZ),
          CAST(:month_to AS TIMESTAMP_NTZ),
          INTERVAL '1' MONTH
        )
      ) AS _u1_value
  ) AS _u1
), areas AS (
  SELECT DISTINCT
    street,
    FALSE AS is_district
  FROM scoped_communities
  UNION ALL
  SELECT
    NULL,
    TRUE
), in_range AS (
  SELECT
    s.*
  FROM safety AS s
  INNER JOIN scoped_communities AS c
    USING (community_id)
  WHERE
    s.month BETWEEN :month_from AND :month_to
), comparable AS (
  SELECT
    community_id
  FROM in_range
  GROUP BY
    community_id
  HAVING
    COUNT(DISTINCT month) = (
      SELECT
        COUNT(*)
      FROM months
    )
), area_sizes AS (
  SELECT
    street,
    COUNT(*) AS communities
  FROM scoped_communities
  GROUP BY
    GROUPING SETS (
      (
        street
      ),
      ()
    )
), reported AS (
  SELECT
    r.month,
    c.street,
    NOT k.community_id IS NULL AS comparable
  FROM in_range AS r
  INNER JOIN scoped_communities AS c
    USING (community_id)
  LEFT JOIN comparable AS k
    USING (community_id)
), reporting_counts AS (
  SELECT
    street,
    GROUPING(street) = 1 AS is_district,
    month,
    COUNT(*) AS communities_reporting,
    COUNT(*) FILTER(WHERE
      comparable) AS communities_compared
  FROM reported
  GROUP BY
    GROUPING SETS (
      (street, month),
      (
        month
      )
    )
), reports AS (
  SELECT
    s.*,
    c.street,
    CASE
      WHEN NOT s.criminal_cases IS NULL OR NOT s.public_order_cases IS NULL
      THEN c.population
    END AS cases_population,
    CASE
      WHEN NOT s.criminal_cases IS NULL OR NOT s.public_order_cases IS NULL
      THEN COALESCE(s.criminal_cases, 0) + COALESCE(s.public_order_cases, 0)
    END AS cases
  FROM in_range AS s
  INNER JOIN scoped_communities AS c
    USING (community_id)
  INNER JOIN comparable
    USING (community_id)
), grouped AS (
  SELECT
    street,
    GROUPING(street) = 1 AS is_district,
    month,
    SUM(disputes_mediated) FILTER(WHERE
      NOT disputes_received IS NULL AND NOT disputes_mediated IS NULL) AS s01_mediated,
    SUM(disputes_received) FILTER(WHERE
      NOT disputes_received IS NULL AND NOT disputes_mediated IS NULL) AS s01_received,
    SUM(disputes_resolved) FILTER(WHERE
      NOT disputes_mediated IS NULL AND NOT disputes_resolved IS NULL) AS s02_resolved,
    SUM(disputes_mediated) FILTER(WHERE
      NOT disputes_mediated IS NULL AND NOT disputes_resolved IS NULL) AS s02_mediated,
    SUM(reoffenders) FILTER(WHERE
      NOT reoffenders IS NULL AND NOT correction_subjects IS NULL) AS s03_reoffenders,
    SUM(correction_subjects) FILTER(WHERE
      NOT reoffenders IS NULL AND NOT correction_subjects IS NULL) AS s03_subjects,
    SUM(major_criminal_cases) AS major_criminal_cases,
    SUM(mass_incidents) AS mass_incidents,
    AVG(satisfaction_rate) AS mean_satisfaction_rate,
    AVG(police_hours) AS mean_police_hours,
    COUNT(police_hours) AS police_hours_reports,
    AVG(legal_education_rate) AS mean_legal_education_rate,
    SUM(cases) AS cases,
    SUM(cases_population) AS cases_population
  FROM reports
  GROUP BY
    GROUPING SETS (
      (street, month),
      (
        month
      )
    )
), area_months AS (
  SELECT
    a.street,
    a.is_district,
    m.month,
    COALESCE(n.communities_reporting, 0) AS communities_reporting,
    COALESCE(n.communities_compared, 0) AS communities_compared,
    z.communities
  FROM areas AS a
  CROSS JOIN months AS m
  INNER JOIN area_sizes AS z
    ON z.street IS NOT DISTINCT FROM a.street
  LEFT JOIN reporting_counts AS n
    ON n.street IS NOT DISTINCT FROM a.street
    AND n.is_district = a.is_district
    AND n.month = m.month
), inputs AS (
  SELECT
    a.street,
    a.is_district,
    a.month,
    g.*
    EXCEPT (street, is_district, month)
  FROM area_months AS a
  LEFT JOIN grouped AS g
    ON g.street IS NOT DISTINCT FROM a.street
    AND g.is_district = a.is_district
    AND g.month = a.month
), computed AS (
  SELECT
    street,
    is_district,
    month,
    'S01' AS indicator_id,
    s01_mediated * CAST(100.0 AS DOUBLE) / NULLIF(s01_received, 0) AS value,
    CAST(s01_mediated AS DOUBLE) AS numerator,
    CAST(s01_received AS DOUBLE) AS denominator
  FROM inputs
  UNION ALL
  SELECT
    street,
    is_district,
    month,
    'S02',
    s02_resolved * CAST(100.0 AS DOUBLE) / NULLIF(s02_mediated, 0),
    s02_resolved,
    s02_mediated
  FROM inputs
  UNION ALL
  SELECT
    street,
    is_district,
    month,
    'S03',
    s03_reoffenders * CAST(100.0 AS DOUBLE) / NULLIF(s03_subjects, 0),
    s03_reoffenders,
    s03_subjects
  FROM inputs
  UNION ALL
  SELECT
    street,
    is_district,
    month,
    'S04',
    major_criminal_cases,
    NULL,
    NULL
  FROM inputs
  UNION ALL
  SELECT
    street,
    is_district,
    month,
    'S05',
    mass_incidents,
    NULL,
    NULL
  FROM inputs
  UNION ALL
  SELECT
    street,
    is_district,
    month,
    'S06',
    mean_satisfaction_rate,
    NULL,
    NULL
  FROM inputs
  UNION ALL
  SELECT
    street,
    is_district,
    month,
    'S07',
    mean_police_hours,
    mean_police_hours * police_hours_reports,
    police_hours_reports
  FROM inputs
  UNION ALL
  SELECT
    street,
    is_district,
    month,
    'S08',
    mean_legal_education_rate,
    NULL,
    NULL
  FROM inputs
  UNION ALL
  SELECT
    street,
    is_district,
    month,
    'S09',
    cases * CAST(1000.0 AS DOUBLE) / NULLIF(cases_population, 0),
    cases,
    cases_population
  FROM inputs
), final AS (
  SELECT
    v.street,
    v.is_district,
    v.month,
    v.indicator_id,
    CAST(v.value AS DOUBLE) AS value,
    CAST(v.numerator AS DOUBLE) AS numerator,
    CAST(v.denominator AS DOUBLE) AS denominator,
    a.communities_reporting,
    a.communities_compared,
    a.communities
  FROM computed AS v
  INNER JOIN area_months AS a
    ON a.street IS NOT DISTINCT FROM v.street
    AND a.is_district = v.is_district
    AND a.month = v.month
)
SELECT
  *
FROM final
ORDER BY
  is_district DESC,
  street NULLS LAST,
  month NULLS LAST,
  indicator_id NULLS LAST
