WITH final AS (
  SELECT DISTINCT
    street
  FROM communities
)
SELECT
  *
FROM final
ORDER BY
  street NULLS LAST
