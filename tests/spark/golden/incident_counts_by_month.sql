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
), events AS (
  SELECT
    CAST(DATE_TRUNC('MONTH', i.occurred_at) AS DATE) AS month,
    i.category,
    COUNT(*) AS incidents,
    COUNT(*) FILTER(WHERE
      i.status = 'resolved') AS resolved_incidents,
    COUNT(*) FILTER(WHERE
      i.status <> 'resolved') AS open_incidents,
    COUNT(*) FILTER(WHERE
      i.severity = 'major') AS major_incidents
  FROM incidents AS i
  SEMI JOIN scoped_communities AS c
    USING (community_id)
  WHERE
    i.occurred_at >= :month_from AND i.occurred_at < :month_to + INTERVAL '1' MONTH
  GROUP BY ALL
), categories AS (
  SELECT DISTINCT
    category
  FROM events
), final AS (
  SELECT
    m.month,
    k.category,
    COALESCE(e.incidents, 0) AS incidents,
    COALESCE(e.resolved_incidents, 0) AS resolved_incidents,
    COALESCE(e.open_incidents, 0) AS open_incidents,
    COALESCE(e.major_incidents, 0) AS major_incidents
  FROM months AS m
  CROSS JOIN categories AS k
  LEFT JOIN events AS e
    ON e.month = m.month AND e.category = k.category
)
SELECT
  *
FROM final
ORDER BY
  month NULLS LAST,
  category NULLS LAST
