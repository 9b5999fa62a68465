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
    f.facility_id,
    f.facility_name,
    f.facility_type,
    f.status,
    f.area_m2,
    f.lon,
    f.lat,
    f.community_id,
    c.community_name,
    c.street
  FROM facilities AS f
  INNER JOIN scoped_communities AS c
    USING (community_id)
)
SELECT
  *
FROM final
ORDER BY
  facility_type NULLS LAST,
  facility_id NULLS LAST
