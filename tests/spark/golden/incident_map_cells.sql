WITH scoped_communities AS (
  SELECT
    *,
    ROW_NUMBER() OVER (ORDER BY community_id NULLS LAST) AS community_no
  FROM communities
  WHERE
    ARRAY_CONTAINS(:scope_streets, street)
    AND ARRAY_CONTAINS(:community_types, community_type)
), located AS (
  SELECT
    CAST(FLOOR(i.lon / :cell_deg_lon) AS BIGINT) AS cell_x,
    CAST(FLOOR(i.lat / :cell_deg_lat) AS BIGINT) AS cell_y,
    i.category,
    i.status,
    i.severity
  FROM incidents AS i
  SEMI JOIN scoped_communities AS c
    USING (community_id)
  WHERE
    i.occurred_at >= :month_from
    AND i.occurred_at < :month_to + INTERVAL '1' MONTH
    AND NOT i.lon IS NULL
    AND NOT i.lat IS NULL
    AND ARRAY_CONTAINS(:incident_categories, i.category)
), per_category AS (
  SELECT
    cell_x,
    cell_y,
    category,
    COUNT(*) AS n
  FROM located
  GROUP BY ALL
), top_categories AS (
  SELECT
    cell_x,
    cell_y,
    top_category
  FROM (
    SELECT
      cell_x,
      cell_y,
      category AS top_category,
      ROW_NUMBER() OVER (PARTITION BY cell_x, cell_y ORDER BY n DESC, category NULLS LAST) AS _w
    FROM per_category
  ) AS _t
  WHERE
    _w = 1
), cells AS (
  SELECT
    cell_x,
    cell_y,
    COUNT(*) AS incidents,
    COUNT(*) FILTER(WHERE
      status <> 'resolved') AS open_incidents,
    COUNT(*) FILTER(WHERE
      severity = 'major') AS major_incidents
  FROM located
  GROUP BY ALL
), final AS (
  SELECT
    (
      c.cell_x + CAST(0.5 AS DOUBLE)
    ) * :cell_deg_lon AS cell_lon,
    (
      c.cell_y + CAST(0.5 AS DOUBLE)
    ) * :cell_deg_lat AS cell_lat,
    c.incidents,
    c.open_incidents,
    c.major_incidents,
    t.top_category
  FROM cells AS c
  INNER JOIN top_categories AS t
    USING (cell_x, cell_y)
)
SELECT
  *
FROM final
ORDER BY
  incidents DESC,
  cell_lon NULLS LAST,
  cell_lat NULLS LAST
