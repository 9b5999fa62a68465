WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), residence_counts AS (
  SELECT
    community_id,
    COUNT(*) AS residences
  FROM residences
  SEMI JOIN scoped_communities
    USING (community_id)
  GROUP BY
    community_id
), community_basis AS (
  SELECT
    c.community_id,
    COALESCE(r.residences, 0) AS residences,
    CASE
      WHEN r.residences > 0
      THEN 'residences'
      WHEN NOT c.lon IS NULL AND NOT c.lat IS NULL
      THEN 'centroids'
    END AS basis
  FROM scoped_communities AS c
  LEFT JOIN residence_counts AS r
    USING (community_id)
), counts AS (
  SELECT
    COUNT(*) AS communities,
    COUNT(*) FILTER(WHERE
      basis = 'residences') AS communities_on_residences,
    COUNT(*) FILTER(WHERE
      basis = 'centroids') AS communities_on_centroids,
    COUNT(*) FILTER(WHERE
      basis IS NULL) AS communities_without_points,
    CAST(COALESCE(SUM(residences), 0) AS BIGINT) + COUNT(*) FILTER(WHERE
      basis = 'centroids') AS points
  FROM community_basis
), final AS (
  SELECT
    CASE
      WHEN communities_on_centroids = 0 AND communities_on_residences > 0
      THEN 'residences'
      WHEN communities_on_residences = 0
      THEN 'centroids'
      ELSE 'mixed'
    END AS basis,
    communities,
    communities_on_residences,
    communities_on_centroids,
    communities_without_points,
    points,
    (
      SELECT
        COUNT(*)
      FROM facilities
      WHERE
        NOT lon IS NULL AND NOT lat IS NULL
    ) AS facilities_located
  FROM counts
)
SELECT
  *
FROM final
