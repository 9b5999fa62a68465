WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), community AS (
  SELECT
    community_id,
    population
  FROM scoped_communities
  WHERE
    community_id = :community_id
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
), reports AS (
  SELECT
    s.*
    EXCEPT (import_id)
  FROM safety AS s
  INNER JOIN community AS c
    USING (community_id)
  WHERE
    s.month BETWEEN :month_from AND :month_to
), events AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', i.occurred_at) AS DATE) AS month,
    COUNT(*) AS incidents,
    COUNT(*) FILTER(WHERE
      i.status <> 'resolved') AS open_incidents
  FROM incidents AS i
  INNER JOIN community AS c
    USING (community_id)
  WHERE
    i.occurred_at >= :month_from AND i.occurred_at < :month_to + INTERVAL '1' MONTH
  GROUP BY
    1
), final AS (
  SELECT
    c.community_id,
    m.month,
    NOT r.community_id IS NULL AS has_report,
    r.*
    EXCEPT (community_id, month),
    r.disputes_mediated * CAST(100.0 AS DOUBLE) / NULLIF(r.disputes_received, 0) AS mediation_rate_pct,
    r.disputes_resolved * CAST(100.0 AS DOUBLE) / NULLIF(r.disputes_mediated, 0) AS mediation_success_pct,
    r.reoffenders * CAST(100.0 AS DOUBLE) / NULLIF(r.correction_subjects, 0) AS reoffending_pct,
    CASE
      WHEN NOT r.criminal_cases IS NULL OR NOT r.public_order_cases IS NULL
      THEN (
        COALESCE(r.criminal_cases, 0) + COALESCE(r.public_order_cases, 0)
      ) * CAST(1000.0 AS DOUBLE) / NULLIF(c.population, 0)
    END AS cases_per_1000,
    COALESCE(e.incidents, 0) AS incidents,
    COALESCE(e.open_incidents, 0) AS open_incidents
  FROM community AS c
  CROSS JOIN months AS m
  LEFT JOIN reports AS r
    ON r.month = m.month
  LEFT JOIN events AS e
    ON e.month = m.month
)
SELECT
  *
FROM final
ORDER BY
  month NULLS LAST
