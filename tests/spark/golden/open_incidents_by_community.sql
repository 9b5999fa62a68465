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
    i.occurred_at,
    i.category,
    i.severity,
    i.status
  FROM incidents AS i
  SEMI JOIN scoped_communities AS c
    USING (community_id)
  WHERE
    i.status <> 'resolved' AND i.occurred_at < :month_to + INTERVAL '1' MONTH
), ranked AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY community_id ORDER BY occurred_at NULLS LAST, incident_id NULLS LAST) AS open_rank
  FROM open_events
), final AS (
  SELECT
    incident_id,
    community_id,
    occurred_at,
    category,
    severity,
    status
  FROM ranked
  WHERE
    open_rank <= :row_limit
)
SELECT
  *
FROM final
ORDER BY
  community_id NULLS LAST,
  occurred_at NULLS LAST,
  incident_id NULLS LAST
