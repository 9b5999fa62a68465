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
    community_id,
    community_name,
    street,
    district,
    community_type,
    households,
    population,
    elderly_population,
    floating_population,
    low_income_households,
    office_area_m2,
    staff_count,
    certified_social_workers,
    staff_avg_monthly_pay,
    committee_members,
    volunteers,
    lon,
    lat
  FROM scoped_communities
)
SELECT
  *
FROM final
ORDER BY
  street NULLS LAST,
  community_id NULLS LAST
