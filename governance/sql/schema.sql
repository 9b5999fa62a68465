-- Storage schema. Idempotent: run on every connect.
-- Column names and types follow governance/contract.py; tests/unit/test_schema.py
-- checks the two agree. Every table's key is declared here as its PRIMARY KEY
-- (db.STORAGE_KEYS says the same, and adds them to a database made before
-- keys were declared), so no code path can store a duplicate; the importer
-- still checks keys first, to name the rows. Every data row carries the import
-- that wrote it; a funding line is known by its import and its row in the file.

create sequence if not exists import_id_seq start 1;
create sequence if not exists funding_line_seq start 1000000000;

create table if not exists import_history (
    import_id integer not null,
    table_name varchar not null,
    file_name varchar not null,
    sha256 varchar not null,
    rows_in_file integer not null,
    rows_replaced integer not null,
    applied_at timestamp not null,
    applied_by varchar not null,
    is_sample boolean not null,
    notes varchar,
    primary key (import_id)
);

-- Added after the first release: the coordinate system an import was read in.
alter table import_history add column if not exists coordinate_system varchar default 'wgs84';

create table if not exists meta (
    key varchar not null,
    value varchar not null,
    primary key (key)
);

create table if not exists communities (
    community_id varchar not null,
    community_name varchar not null,
    street varchar not null,
    district varchar,
    community_type varchar not null,
    households integer not null,
    population integer not null,
    elderly_population integer,
    floating_population integer,
    low_income_households integer,
    office_area_m2 double not null,
    staff_count integer,
    certified_social_workers integer,
    staff_avg_monthly_pay decimal(12, 2),
    committee_members integer,
    volunteers integer,
    lon double,
    lat double,
    import_id integer not null,
    primary key (community_id)
);

create table if not exists facilities (
    facility_id varchar not null,
    community_id varchar not null,
    facility_type varchar not null,
    facility_name varchar,
    area_m2 double,
    capacity integer,
    status varchar not null,
    lon double,
    lat double,
    import_id integer not null,
    primary key (facility_id)
);

create table if not exists funding (
    community_id varchar not null,
    year integer not null,
    category varchar not null,
    source varchar not null,
    amount_yuan decimal(18, 2) not null,
    allocated_date date,
    disbursed_date date,
    import_id integer not null,
    -- The line's row in its file (allocation lines have no key of their own);
    -- rows written by hand, not by an import, take a number that is never reused.
    line_no integer not null default nextval('funding_line_seq'),
    primary key (import_id, line_no)
);

-- month is stored as the first day of the month.
create table if not exists safety (
    community_id varchar not null,
    month date not null,
    criminal_cases integer,
    major_criminal_cases integer,
    public_order_cases integer,
    fire_incidents integer,
    disputes_received integer,
    disputes_mediated integer,
    disputes_resolved integer,
    mass_incidents integer,
    petitions integer,
    correction_subjects integer,
    reoffenders integer,
    police_hours double,
    satisfaction_rate double,
    legal_education_rate double,
    import_id integer not null,
    primary key (community_id, month)
);

create table if not exists residences (
    residence_id varchar not null,
    community_id varchar not null,
    households integer not null,
    population integer,
    lon double not null,
    lat double not null,
    import_id integer not null,
    primary key (residence_id)
);

-- Optional grid events (网格事件), one row per incident; an import replaces the
-- incidents whose incident_id it lists.
create table if not exists incidents (
    incident_id varchar not null,
    community_id varchar not null,
    occurred_at timestamp not null,
    category varchar not null,
    severity varchar not null,
    status varchar not null,
    resolved_at timestamp,
    lon double,
    lat double,
    import_id integer not null,
    primary key (incident_id)
);

-- The catalogue's status rule, written once for every indicator query.
-- direction: at_least (≥ floor, ≥ target), below (< limit), at_most (≤ limit),
-- none (no standard: ranked only). A floor with a target between them gives
-- partly_met; a missing value is no_data, never met or not met.
create or replace macro indicator_status(value, floor_value, target_value, direction) as
    case
        when value is null then 'no_data'
        when direction = 'none' then 'not_rated'
        when direction = 'at_least' then
            case
                when target_value is not null and value >= target_value then 'met'
                when floor_value is not null and value >= floor_value then
                    case when target_value is null then 'met' else 'partly_met' end
                else 'not_met'
            end
        when direction = 'below' then
            case when value < coalesce(target_value, floor_value) then 'met' else 'not_met' end
        when direction = 'at_most' then
            case when value <= coalesce(target_value, floor_value) then 'met' else 'not_met' end
    end;

-- Optional community boundaries (GeoJSON geometry, WGS-84), the base layer of
-- every map. Without them maps draw shapes derived from the data.
create table if not exists community_boundaries (
    community_id varchar not null,
    geometry_json varchar not null,
    import_id integer not null,
    primary key (community_id)
);

-- Named what-if scenarios: only what differs from the policy defaults, as JSON
-- (governance/scenarios.py). The baseline is never stored here.
create table if not exists scenarios (
    name varchar not null,
    payload_json varchar not null,
    changes integer not null,
    saved_at timestamp not null,
    saved_by varchar not null,
    primary key (name)
);
