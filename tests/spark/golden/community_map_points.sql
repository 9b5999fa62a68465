WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), points AS (
  SELECT
    r.community_id,
    r.lon,
    r.lat
  FROM residences AS r
  INNER JOIN scoped_communities AS c
    USING (community_id)
  UNION ALL
  SELECT
    f.community_id,
    f.lon,
    f.lat
  FROM facilities AS f
  INNER JOIN scoped_communities AS c
    USING (community_id)
  WHERE
    NOT f.lon IS NULL AND NOT f.lat IS NULL
  UNION ALL
  SELECT
    community_id,
    lon,
    lat
  FROM scoped_communities
  WHERE
    NOT lon IS NULL AND NOT lat IS NULL
), final AS (
  SELECT
    community_id,
    lon,
    lat
  FROM points
)
SELECT
  *
FROM final
ORDER BY
  community_id NULLS LAST,
  lon NULLS LAST,
  lat NULLS LAST
