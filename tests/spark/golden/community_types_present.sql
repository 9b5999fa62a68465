WITH visible_communities AS (
  SELECT
    *
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
), final AS (
  SELECT
    community_type,
    COUNT(*) AS communities
  FROM visible_communities
  GROUP BY
    community_type
)
SELECT
  *
FROM final
ORDER BY
  community_type NULLS LAST
