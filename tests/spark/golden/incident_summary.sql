WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), visible AS (
  SELECT
    COUNT(*) AS incidents,
    MIN(i.occurred_at) AS first_occurred_at,
    AVG(i.lat) AS mean_lat
  FROM incidents AS i
  SEMI JOIN scoped_communities AS c
    USING (community_id)
), recorded AS (
  SELECT
    GREATEST(MAX(occurred_at), MAX(resolved_at)) AS data_as_of
  FROM incidents
), final AS (
  SELECT
    v.incidents,
    v.first_occurred_at,
    v.mean_lat,
    r.data_as_of
  FROM visible AS v
  CROSS JOIN recorded AS r
)
SELECT
  *
FROM final
