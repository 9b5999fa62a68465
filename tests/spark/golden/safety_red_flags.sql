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
    c.community_id,
    c.community_name,
    c.street,
    c.community_type,
    s.month,
    s.major_criminal_cases,
    s.mass_incidents
  FROM safety AS s
  INNER JOIN scoped_communities AS c
    USING (community_id)
  WHERE
    s.month BETWEEN :month_from AND :month_to
    AND (
      s.major_criminal_cases > 0 OR s.mass_incidents > 0
    )
)
SELECT
  *
FROM final
ORDER BY
  month DESC,
  street NULLS LAST,
  community_id NULLS LAST
