WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), year_lines AS (
  SELECT
    community_id,
    category,
    source,
    amount_yuan
  FROM funding
  WHERE
    year = :year
), grouped AS (
  SELECT
    community_id,
    category,
    source,
    SUM(amount_yuan) AS amount_yuan,
    COUNT(*) AS lines
  FROM year_lines
  GROUP BY
    community_id,
    category,
    source
), final AS (
  SELECT
    c.community_id,
    c.community_name,
    c.street,
    c.community_type,
    g.category,
    g.source,
    CAST(g.amount_yuan AS DOUBLE) AS amount_yuan,
    g.lines
  FROM grouped AS g
  INNER JOIN scoped_communities AS c
    USING (community_id)
)
SELECT
  *
FROM final
ORDER BY
  community_id NULLS LAST,
  category NULLS LAST,
  source NULLS LAST
