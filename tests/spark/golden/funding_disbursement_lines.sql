WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), funding_lines_timed AS (
  SELECT
    community_id,
    category,
    source,
    amount_yuan,
    allocated_date,
    disbursed_date,
    DATEDIFF(DAY, DATE_TRUNC('DAY', allocated_date), DATE_TRUNC('DAY', disbursed_date)) AS delay_days,
    CASE
      WHEN allocated_date IS NULL
      THEN 'undated'
      WHEN disbursed_date IS NULL
      THEN 'not_disbursed'
      WHEN DATEDIFF(DAY, DATE_TRUNC('DAY', allocated_date), DATE_TRUNC('DAY', disbursed_date)) <= :on_time_days
      THEN 'on_time'
      ELSE 'late'
    END AS timing
  FROM funding
  WHERE
    year = :year
), final AS (
  SELECT
    c.community_id,
    c.community_name,
    c.street,
    c.community_type,
    l.category,
    l.source,
    CAST(l.amount_yuan AS DOUBLE) AS amount_yuan,
    l.allocated_date,
    l.disbursed_date,
    l.delay_days,
    l.timing AS status,
    CASE
      WHEN l.timing = 'not_disbursed'
      THEN GREATEST(
        DATEDIFF(
          DAY,
          DATE_TRUNC('DAY', l.allocated_date),
          DATE_TRUNC('DAY', CAST(:as_of_date AS DATE))
        ),
        0
      )
    END AS days_outstanding
  FROM funding_lines_timed AS l
  INNER JOIN scoped_communities AS c
    USING (community_id)
)
SELECT
  *
FROM final
ORDER BY
  community_id NULLS LAST,
  allocated_date NULLS LAST,
  category NULLS LAST,
  source NULLS LAST,
  amount_yuan NULLS LAST
