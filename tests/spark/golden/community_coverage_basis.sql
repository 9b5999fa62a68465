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
), final AS (
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
)
SELECT
  *
FROM final
ORDER BY
  community_id NULLS LAST
