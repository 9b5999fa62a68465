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
    COUNT(*) AS communities,
    COALESCE(SUM(households), 0) AS households,
    COALESCE(SUM(population), 0) AS population,
    COUNT(DISTINCT street) AS streets
  FROM scoped_communities
)
SELECT
  *
FROM final
