WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), open_events AS (
  SELECT
    i.incident_id,
    i.community_id,
    c.community_name,
    c.street,
    i.occurred_at,
    i.category,
    i.severity,
    i.status,
    i.occurred_at >= :month_from AS in_range,
    DATEDIFF(DAY, DATE_TRUNC('DAY', i.occurred_at), DATE_TRUNC('DAY', :as_of)) AS age_days
  FROM incidents AS i
  INNER JOIN scoped_communities AS c
    USING (community_id)
  WHERE
    i.status <> 'resolved' AND i.occurred_at < :month_to + INTERVAL '1' MONTH
), final AS (
  SELECT
    *,
    COUNT(*) OVER () AS open_total
  FROM open_events
  ORDER BY
    occurred_at NULLS LAST,
    incident_id NULLS LAST
  LIMIT :row_limit
)
SELECT
  *
FROM final
ORDER BY
  occurred_at NULLS LAST,
  incident_id NULLS LAST
