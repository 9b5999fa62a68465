WITH visible_communities AS (
  SELECT
    *
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
), final AS (
  SELECT
    street,
    COUNT(*) AS communities
  FROM visible_communities
  GROUP BY
    street
)
SELECT
  *
FROM final
ORDER BY
  street NULLS LAST
