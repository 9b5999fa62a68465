-- The 平安建设 event aggregates a provincial Spark job computes from grid
-- events kept on the platform (governance/spark/aggregates.py), imported into
-- the dashboard's database. Each table holds the rows of one query file for
-- the run in incident_agg_runs (one run at a time: an import replaces all of
-- them in one transaction). Columns are the query's. The 平安建设 page reads
-- the summary, community months, oldest open cases, resolution and map cells
-- (queries/agg_*.sql); the other three are the run's whole-scope answers.

create table if not exists incident_agg_runs (
    month_from date not null,
    month_to date not null,
    as_of timestamp not null,
    scope_streets varchar not null,   -- JSON list of the streets computed over
    engine varchar not null,
    source varchar not null,
    computed_at timestamp not null,
    imported_at timestamp not null
);

-- queries/incident_summary.sql
create table if not exists incident_agg_summary (
    incidents bigint,
    first_occurred_at timestamp,
    mean_lat double,
    data_as_of timestamp
);

-- queries/incident_counts_by_month.sql
create table if not exists incident_agg_counts_by_month (
    month date,
    category varchar,
    incidents bigint,
    resolved_incidents bigint,
    open_incidents bigint,
    major_incidents bigint
);

-- queries/incident_resolution_by_category.sql
create table if not exists incident_agg_resolution (
    category varchar,
    is_total boolean,
    incidents bigint,
    resolved_incidents bigint,
    resolved_pct double,
    timed_resolutions bigint,
    median_resolution_hours double,
    p90_resolution_hours double,
    open_incidents bigint,
    open_over_30_days bigint
);

-- queries/open_incidents.sql
create table if not exists incident_agg_open (
    incident_id varchar,
    community_id varchar,
    community_name varchar,
    street varchar,
    occurred_at timestamp,
    category varchar,
    severity varchar,
    status varchar,
    in_range boolean,
    age_days bigint,
    open_total bigint
);

-- queries/incident_report_reconciliation.sql
create table if not exists incident_agg_reconciliation (
    community_id varchar,
    community_name varchar,
    street varchar,
    month date,
    measure varchar,
    reported_count integer,
    incident_count bigint,
    difference_count bigint,
    checked_community_months bigint
);

-- queries/incident_map_cells.sql
create table if not exists incident_agg_map_cells (
    cell_lon double,
    cell_lat double,
    incidents bigint,
    open_incidents bigint,
    major_incidents bigint,
    top_category varchar
);

-- queries/incident_community_months.sql
create table if not exists incident_agg_community_months (
    community_id varchar,
    month date,
    category varchar,
    incidents bigint,
    resolved_incidents bigint,
    open_incidents bigint,
    major_incidents bigint,
    timed_resolutions bigint,
    open_over_30_days bigint
);

-- queries/open_incidents_by_community.sql
create table if not exists incident_agg_open_oldest (
    incident_id varchar,
    community_id varchar,
    occurred_at timestamp,
    category varchar,
    severity varchar,
    status varchar
);
