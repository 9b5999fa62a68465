WITH circle AS (
  SELECT
    CAST(:service_circle_radius_m AS DOUBLE) AS radius_m,
    CAST(:walking_detour_factor AS DOUBLE) AS detour_factor,
    CAST(:service_circle_radius_m AS DOUBLE) AS search_limit_m
), facility_types AS (
  SELECT
    'service_center' AS facility_type,
    1 AS type_no
), candidate_facilities AS (
  SELECT
    facility_id,
    facility_name,
    facility_type,
    lon,
    lat,
    TRUE AS is_stored,
    TRUE AS is_open
  FROM facilities
  WHERE
    status = 'in_use'
), scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), residence_communities AS (
  SELECT DISTINCT
    community_id
  FROM residences
  SEMI JOIN scoped_communities
    USING (community_id)
), points AS (
  SELECT
    ROW_NUMBER() OVER (ORDER BY r.residence_id NULLS LAST) * 2 AS point_no,
    r.residence_id AS point_id,
    'residences' AS basis,
    r.community_id,
    r.households,
    r.lon,
    r.lat
  FROM residences AS r
  SEMI JOIN scoped_communities
    USING (community_id)
  UNION ALL
  SELECT
    c.community_no * 2 + 1,
    c.community_id,
    'centroids',
    c.community_id,
    c.households,
    c.lon,
    c.lat
  FROM scoped_communities AS c
  ANTI JOIN residence_communities
    USING (community_id)
  WHERE
    NOT c.lon IS NULL AND NOT c.lat IS NULL
), typed_facilities AS (
  SELECT
    f.*,
    t.type_no,
    ROW_NUMBER() OVER (ORDER BY f.facility_id NULLS LAST, f.is_stored DESC) AS facility_no,
    SIN(RADIANS(f.lat) / 2) AS sin_half_lat,
    COS(RADIANS(f.lat) / 2) AS cos_half_lat,
    SIN(RADIANS(f.lon) / 2) AS sin_half_lon,
    COS(RADIANS(f.lon) / 2) AS cos_half_lon,
    COS(RADIANS(f.lat)) AS cos_lat
  FROM candidate_facilities AS f
  INNER JOIN facility_types AS t
    USING (facility_type)
  WHERE
    NOT f.lon IS NULL AND NOT f.lat IS NULL
), typed_points AS (
  SELECT
    p.*,
    t.facility_type,
    t.type_no,
    SIN(RADIANS(p.lat) / 2) AS sin_half_lat,
    COS(RADIANS(p.lat) / 2) AS cos_half_lat,
    SIN(RADIANS(p.lon) / 2) AS sin_half_lon,
    COS(RADIANS(p.lon) / 2) AS cos_half_lon,
    COS(RADIANS(p.lat)) AS cos_lat
  FROM points AS p
  CROSS JOIN facility_types AS t
), searches AS (
  SELECT
    pass,
    straight_m,
    straight_m / CAST(111195.0 AS DOUBLE) * CAST(1.000001 AS DOUBLE) AS cell_lat_deg,
    POWER(SIN(straight_m / CAST(6371008.8 AS DOUBLE) / 2), 2) AS max_hav
  FROM (
    SELECT
      1 AS pass,
      radius_m / detour_factor AS straight_m
    FROM circle
    UNION ALL
    SELECT
      2,
      GREATEST(radius_m, search_limit_m) / detour_factor
    FROM circle
  )
), row_widths AS (
  SELECT
    pass,
    cell_row,
    CASE
      WHEN SIN(straight_m / CAST(6371008.8 AS DOUBLE)) >= COS(RADIANS(poleward_deg))
      THEN CAST(360.0 AS DOUBLE)
      ELSE DEGREES(ASIN(SIN(straight_m / CAST(6371008.8 AS DOUBLE)) / COS(RADIANS(poleward_deg)))) * CAST(1.000001 AS DOUBLE)
    END AS cell_lon_deg
  FROM (
    SELECT
      pass,
      straight_m,
      cell_row,
      LEAST(
        CAST(90.0 AS DOUBLE),
        GREATEST(ABS(cell_row * cell_lat_deg), ABS((
          cell_row + 1
        ) * cell_lat_deg))
      ) AS poleward_deg
    FROM (
      SELECT
        s.pass,
        s.straight_m,
        s.cell_lat_deg,
        EXPLODE(
          IF(
            (
              CAST(FLOOR(b.max_lat / s.cell_lat_deg) AS BIGINT) + 2 - 1
            ) < CAST(FLOOR(b.min_lat / s.cell_lat_deg) AS BIGINT) - 1,
            ARRAY(),
            SEQUENCE(
              CAST(FLOOR(b.min_lat / s.cell_lat_deg) AS BIGINT) - 1,
              (
                CAST(FLOOR(b.max_lat / s.cell_lat_deg) AS BIGINT) + 2 - 1
              )
            )
          )
        ) AS cell_row
      FROM searches AS s
      CROSS JOIN (
        SELECT
          MIN(lat) AS min_lat,
          MAX(lat) AS max_lat
        FROM points
      ) AS b
    )
  )
), facility_keys AS (
  SELECT
    f.pass,
    f.type_no,
    f.cell_row,
    f.cell_col + _u1._u1_value AS cell_col,
    f.facility_no,
    f.is_stored,
    f.is_open,
    f.sin_half_lat,
    f.cos_half_lat,
    f.sin_half_lon,
    f.cos_half_lon,
    f.cos_lat
  FROM (
    SELECT
      f.*,
      w.cell_row,
      CAST(FLOOR(f.lon / w.cell_lon_deg) AS BIGINT) AS cell_col
    FROM (
      SELECT
        f.*,
        s.pass,
        CAST(FLOOR(f.lat / s.cell_lat_deg) AS BIGINT) + _u1._u1_value AS target_row
      FROM typed_facilities AS f
      CROSS JOIN searches AS s
      LATERAL VIEW
      EXPLODE(ARRAY(-1, 0, 1)) _u1 AS _u1_value
    ) AS f
    INNER JOIN row_widths AS w
      ON w.pass = f.pass AND w.cell_row = f.target_row
  ) AS f
  LATERAL VIEW
  EXPLODE(ARRAY(-1, 0, 1)) _u1 AS _u1_value
), point_keys AS (
  SELECT
    p.point_no,
    p.type_no,
    p.sin_half_lat,
    p.cos_half_lat,
    p.sin_half_lon,
    p.cos_half_lon,
    p.cos_lat,
    p.cell_row,
    CAST(FLOOR(p.lon / w.cell_lon_deg) AS BIGINT) AS cell_col,
    p.max_hav
  FROM (
    SELECT
      p.*,
      s.max_hav,
      CAST(FLOOR(p.lat / s.cell_lat_deg) AS BIGINT) AS cell_row
    FROM typed_points AS p
    CROSS JOIN searches AS s
    WHERE
      s.pass = 1
  ) AS p
  INNER JOIN row_widths AS w
    ON w.pass = 1 AND w.cell_row = p.cell_row
), near_pairs AS (
  SELECT
    point_no,
    type_no,
    facility_no,
    is_stored,
    is_open,
    hav
  FROM (
    SELECT
      p.point_no,
      p.type_no,
      f.facility_no,
      f.is_stored,
      f.is_open,
      (
        f.sin_half_lat * p.cos_half_lat - f.cos_half_lat * p.sin_half_lat
      ) * (
        f.sin_half_lat * p.cos_half_lat - f.cos_half_lat * p.sin_half_lat
      ) + p.cos_lat * f.cos_lat * (
        f.sin_half_lon * p.cos_half_lon - f.cos_half_lon * p.sin_half_lon
      ) * (
        f.sin_half_lon * p.cos_half_lon - f.cos_half_lon * p.sin_half_lon
      ) AS hav,
      p.max_hav
    FROM point_keys AS p
    INNER JOIN (
      SELECT
        *
      FROM facility_keys
      WHERE
        pass = 1
    ) AS f
      ON f.type_no = p.type_no AND f.cell_row = p.cell_row AND f.cell_col = p.cell_col
  )
  WHERE
    hav <= max_hav
), covered_points AS (
  SELECT DISTINCT
    point_no
  FROM near_pairs
), community_sums AS (
  SELECT
    p.community_id,
    COUNT(*) AS points,
    SUM(p.households) AS households_total,
    COALESCE(SUM(p.households) FILTER(WHERE
      NOT v.point_no IS NULL), 0) AS households_covered
  FROM typed_points AS p
  LEFT JOIN covered_points AS v
    USING (point_no)
  GROUP BY
    p.community_id
), facilities_located AS (
  SELECT
    COUNT(*) > 0 AS is_located
  FROM facilities
  WHERE
    NOT lon IS NULL AND NOT lat IS NULL
), standards AS (
  SELECT
    s.indicator_id,
    s.direction,
    s.floor_value,
    s.target_value
  FROM (
    SELECT
      EXPLODE(:thresholds) AS s
  )
), computed AS (
  SELECT
    c.community_id,
    'F03' AS indicator_id,
    CASE
      WHEN g.is_located
      THEN s.households_covered * CAST(100.0 AS DOUBLE) / NULLIF(s.households_total, 0)
    END AS value,
    CASE WHEN g.is_located THEN s.households_covered END AS numerator,
    s.households_total AS denominator
  FROM scoped_communities AS c
  CROSS JOIN facilities_located AS g
  LEFT JOIN community_sums AS s
    USING (community_id)
), final AS (
  SELECT
    v.community_id,
    v.indicator_id,
    CAST(v.value AS DOUBLE) AS value,
    t.floor_value,
    t.target_value,
    CASE
      WHEN v.value IS NULL
      THEN 'no_data'
      WHEN t.direction = 'none'
      THEN 'not_rated'
      WHEN t.direction = 'at_least'
      THEN CASE
        WHEN NOT t.target_value IS NULL AND v.value >= t.target_value
        THEN 'met'
        WHEN NOT t.floor_value IS NULL AND v.value >= t.floor_value
        THEN CASE WHEN t.target_value IS NULL THEN 'met' ELSE 'partly_met' END
        ELSE 'not_met'
      END
      WHEN t.direction = 'below'
      THEN CASE
        WHEN v.value < COALESCE(t.target_value, t.floor_value)
        THEN 'met'
        ELSE 'not_met'
      END
      WHEN t.direction = 'at_most'
      THEN CASE
        WHEN v.value <= COALESCE(t.target_value, t.floor_value)
        THEN 'met'
        ELSE 'not_met'
      END
    END AS status,
    CAST(v.numerator AS DOUBLE) AS numerator,
    CAST(v.denominator AS DOUBLE) AS denominator,
    c.community_name,
    c.street,
    c.community_type
  FROM computed AS v
  INNER JOIN scoped_communities AS c
    USING (community_id)
  LEFT JOIN standards AS t
    USING (indicator_id)
)
SELECT
  *
FROM final
ORDER BY
  community_id NULLS LAST,
  indicator_id NULLS LAST
