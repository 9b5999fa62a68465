WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), scoped_lines AS (
  SELECT
    f.year,
    f.community_id,
    f.category,
    f.amount_yuan
  FROM funding AS f
  INNER JOIN scoped_communities
    USING (community_id)
), yearly AS (
  SELECT
    year,
    CAST(COALESCE(SUM(amount_yuan) FILTER(WHERE
      category = 'public_welfare'), 0) AS DOUBLE) AS public_welfare_yuan,
    COUNT(*) FILTER(WHERE
      category = 'public_welfare') AS lines,
    COUNT(DISTINCT community_id) FILTER(WHERE
      category = 'public_welfare' AND amount_yuan > 0) AS communities_funded
  FROM scoped_lines
  GROUP BY
    year
), final AS (
  SELECT
    year,
    public_welfare_yuan,
    lines,
    communities_funded,
    CAST(:public_welfare_budget_yuan AS DOUBLE) AS budget_yuan,
    public_welfare_yuan * 100 / NULLIF(CAST(:public_welfare_budget_yuan AS DOUBLE), 0) AS share_of_budget_pct
  FROM yearly
)
SELECT
  *
FROM final
ORDER BY
  year NULLS LAST
