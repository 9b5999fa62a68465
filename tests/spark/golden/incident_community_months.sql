WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), final AS (
  SELECT
    i.community_id,
    CAST(DATE_TRUNC('MONTH', i.occurred_at) AS DATE) AS month,
    i.category,
    COUNT(*) AS incidents,
    COUNT(*) FILTER(WHERE
      i.status = 'resolved') AS resolved_incidents,
    COUNT(*) FILTER(WHERE
      i.status <> 'resolved') AS open_incidents,
    COUNT(*) FILTER(WHERE
      i.severity = 'major') AS major_incidents,
    COUNT(i.resolved_at) AS timed_resolutions,
    COUNT(*) FILTER(WHERE
      i.status <> 'resolved' AND i.occurred_at < :as_of - INTERVAL '30' DAY) AS open_over_30_days
  FROM incidents AS i
  SEMI JOIN scoped_communities AS c
    USING (community_id)
  WHERE
    i.occurred_at < :month_to + INTERVAL '1' MONTH
  GROUP BY ALL
)
SELECT
  *
FROM final
ORDER BY
  community_id NULLS LAST,
  month NULLS LAST,
  category NULLS LAST
