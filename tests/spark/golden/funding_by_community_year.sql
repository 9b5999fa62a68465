WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), yearly AS (
  SELECT
    community_id,
    year,
    CAST(SUM(amount_yuan) AS DOUBLE) AS total_yuan,
    COUNT(*) AS lines
  FROM funding
  GROUP BY
    community_id,
    year
), with_previous AS (
  SELECT
    y.*,
    p.total_yuan AS previous_year_total_yuan
  FROM yearly AS y
  LEFT JOIN yearly AS p
    ON p.community_id = y.community_id AND p.year = y.year - 1
), final AS (
  SELECT
    c.community_id,
    c.community_name,
    c.street,
    c.community_type,
    c.households,
    w.year,
    w.total_yuan,
    w.lines,
    w.total_yuan / NULLIF(c.households, 0) AS per_household_yuan,
    w.previous_year_total_yuan,
    w.total_yuan - w.previous_year_total_yuan AS change_yuan,
    (
      w.total_yuan - w.previous_year_total_yuan
    ) * 100 / NULLIF(w.previous_year_total_yuan, 0) AS change_pct
  FROM with_previous AS w
  INNER JOIN scoped_communities AS c
    USING (community_id)
)
SELECT
  *
FROM final
ORDER BY
  community_id NULLS LAST,
  year NULLS LAST
