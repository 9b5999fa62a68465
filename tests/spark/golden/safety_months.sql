WITH visible_communities AS (
  SELECT
    *
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
), final AS (
  SELECT DISTINCT
    s.month
  FROM safety AS s
  INNER JOIN visible_communities
    USING (community_id)
)
SELECT
  *
FROM final
ORDER BY
  month NULLS LAST
