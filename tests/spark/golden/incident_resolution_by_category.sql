WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), events AS (
  SELECT
    i.category,
    i.status,
    i.occurred_at,
    DATEDIFF(SECOND, DATE_TRUNC('SECOND', i.occurred_at), DATE_TRUNC('SECOND', i.resolved_at)) / CAST(3600.0 AS DOUBLE) AS resolution_hours
  FROM incidents AS i
  SEMI JOIN scoped_communities AS c
    USING (community_id)
  WHERE
    i.occurred_at >= :month_from AND i.occurred_at < :month_to + INTERVAL '1' MONTH
), final AS (
  SELECT
    category,
    GROUPING(category) = 1 AS is_total,
    COUNT(*) AS incidents,
    COUNT(*) FILTER(WHERE
      status = 'resolved') AS resolved_incidents,
    COUNT(*) FILTER(WHERE
      status = 'resolved') * CAST(100.0 AS DOUBLE) / COUNT(*) AS resolved_pct,
    COUNT(resolution_hours) AS timed_resolutions,
    PERCENTILE(resolution_hours, CAST(0.5 AS DOUBLE)) AS median_resolution_hours,
    PERCENTILE(resolution_hours, CAST(0.9 AS DOUBLE)) AS p90_resolution_hours,
    COUNT(*) FILTER(WHERE
      status <> 'resolved') AS open_incidents,
    COUNT(*) FILTER(WHERE
      status <> 'resolved' AND occurred_at < :as_of - INTERVAL '30' DAY) AS open_over_30_days
  FROM events
  GROUP BY
    GROUPING SETS (
      (
        category
      ),
      ()
    )
  HAVING
    COUNT(*) > 0
)
SELECT
  *
FROM final
ORDER BY
  is_total DESC,
  category NULLS LAST
