WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), logged_months AS (
  SELECT DISTINCT
    CAST(DATE_TRUNC('MONTH', d.day) AS DATE) AS month
  FROM (
    SELECT DISTINCT
      CAST(i.occurred_at AS DATE) AS day
    FROM incidents AS i
    WHERE
      i.occurred_at >= :month_from AND i.occurred_at < :month_to + INTERVAL '1' MONTH
  ) AS d
), checked AS (
  SELECT
    c.community_id,
    c.community_name,
    c.street,
    m.month
  FROM scoped_communities AS c
  CROSS JOIN logged_months AS m
), incident_counts AS (
  SELECT
    i.community_id,
    CAST(DATE_TRUNC('MONTH', i.occurred_at) AS DATE) AS month,
    COUNT(*) FILTER(WHERE
      category = 'criminal') AS criminal_cases,
    COUNT(*) FILTER(WHERE
      category = 'criminal' AND severity = 'major') AS major_criminal_cases,
    COUNT(*) FILTER(WHERE
      category = 'public_order') AS public_order_cases,
    COUNT(*) FILTER(WHERE
      category = 'fire') AS fire_incidents,
    COUNT(*) FILTER(WHERE
      category = 'dispute') AS disputes_received,
    COUNT(*) FILTER(WHERE
      category = 'mass_incident') AS mass_incidents,
    COUNT(*) FILTER(WHERE
      category = 'petition') AS petitions
  FROM incidents AS i
  SEMI JOIN scoped_communities AS c
    ON c.community_id = i.community_id
  WHERE
    i.occurred_at >= :month_from AND i.occurred_at < :month_to + INTERVAL '1' MONTH
  GROUP BY ALL
), incident_long AS (
  SELECT
    *
  FROM incident_counts
  UNPIVOT(incident_count FOR 
    measure IN (
      criminal_cases,
      major_criminal_cases,
      public_order_cases,
      fire_incidents,
      disputes_received,
      mass_incidents,
      petitions
    )
  )
), report_long AS (
  SELECT
    *
  FROM (
    SELECT
      community_id,
      month,
      criminal_cases,
      major_criminal_cases,
      public_order_cases,
      fire_incidents,
      disputes_received,
      mass_incidents,
      petitions
    FROM safety
    SEMI JOIN scoped_communities
      USING (community_id)
    WHERE
      month BETWEEN :month_from AND :month_to
  )
  UNPIVOT(reported_count FOR 
    measure IN (
      criminal_cases,
      major_criminal_cases,
      public_order_cases,
      fire_incidents,
      disputes_received,
      mass_incidents,
      petitions
    )
  )
), measures AS (
  SELECT
    EXPLODE(
      ARRAY(
        'criminal_cases',
        'major_criminal_cases',
        'public_order_cases',
        'fire_incidents',
        'disputes_received',
        'mass_incidents',
        'petitions'
      )
    ) AS measure
), compared AS (
  SELECT
    k.community_id,
    k.community_name,
    k.street,
    k.month,
    m.measure,
    r.reported_count,
    COALESCE(i.incident_count, 0) AS incident_count
  FROM checked AS k
  CROSS JOIN measures AS m
  LEFT JOIN report_long AS r
    ON r.community_id = k.community_id AND r.month = k.month AND r.measure = m.measure
  LEFT JOIN incident_long AS i
    ON i.community_id = k.community_id AND i.month = k.month AND i.measure = m.measure
), final AS (
  SELECT
    community_id,
    community_name,
    street,
    month,
    measure,
    reported_count,
    incident_count,
    incident_count - reported_count AS difference_count,
    (
      SELECT
        COUNT(*)
      FROM checked
    ) AS checked_community_months
  FROM compared
  WHERE
    reported_count IS NULL OR incident_count <> reported_count
)
SELECT
  *
FROM final
ORDER BY
  reported_count IS NULL NULLS LAST,
  month NULLS LAST,
  street NULLS LAST,
  community_id NULLS LAST,
  measure NULLS LAST
