-- Monthly safety indicators per street and for the whole visible district, for
-- the trend lines and the street × month heat map.
-- One row per (street, or the district) × month in $month_from..$month_to ×
-- indicator S01–S09; months without any report still get a row (value NULL).
-- Columns: street (NULL on district rows), is_district, month, indicator_id,
--   value, numerator, denominator, communities_reporting (communities with a
--   report that month), communities_compared (communities of the area that
--   reported in every month of the range: the ones the value is computed over),
--   communities (communities of the area).
-- Rules: only comparable communities — those with a report in every month of the
--   range — enter value, numerator and denominator, so a line does not jump
--   because a community starts or stops reporting; communities_reporting counts
--   every report. The range formulas applied to one month and summed over those
--   communities: S01/S02 pair months where both inputs are reported; S03 =
--   Σ reoffenders / Σ correction_subjects × 100; S04/S05 sums; S06, S07, S08 the
--   mean over communities with a value; S09 = Σ cases / Σ population of the
--   communities reporting cases × 1000. A zero denominator gives NULL.
-- Parameters: $scope_streets, $community_types, $month_from, $month_to

with
-- include: scoped_communities

months as (
    select cast(unnest(generate_series(
        cast($month_from as timestamp), cast($month_to as timestamp), interval 1 month
    )) as date) as month
),

areas as (
    select distinct street, false as is_district
    from scoped_communities

    union all

    select null, true
),

in_range as (
    select s.*
    from safety as s
    inner join scoped_communities as c using (community_id)
    where s.month between $month_from and $month_to
),

comparable as (
    select community_id
    from in_range
    group by community_id
    having count(distinct month) = (select count(*) from months)
),

area_sizes as (
    select street, count(*) as communities
    from scoped_communities
    group by grouping sets ((street), ())
),

reported as (
    select r.month, c.street, k.community_id is not null as comparable
    from in_range as r
    inner join scoped_communities as c using (community_id)
    left join comparable as k using (community_id)
),

reporting_counts as (
    select
        street,
        grouping(street) = 1 as is_district,
        month,
        count(*) as communities_reporting,
        count(*) filter (where comparable) as communities_compared
    from reported
    group by grouping sets ((street, month), (month))
),

reports as (
    select
        s.*,
        c.street,
        case
            when s.criminal_cases is not null or s.public_order_cases is not null
                then c.population
        end as cases_population,
        case
            when s.criminal_cases is not null or s.public_order_cases is not null
                then coalesce(s.criminal_cases, 0) + coalesce(s.public_order_cases, 0)
        end as cases
    from in_range as s
    inner join scoped_communities as c using (community_id)
    inner join comparable using (community_id)
),

grouped as (
    select
        street,
        grouping(street) = 1 as is_district,
        month,
        sum(disputes_mediated)
            filter (where disputes_received is not null and disputes_mediated is not null)
            as s01_mediated,
        sum(disputes_received)
            filter (where disputes_received is not null and disputes_mediated is not null)
            as s01_received,
        sum(disputes_resolved)
            filter (where disputes_mediated is not null and disputes_resolved is not null)
            as s02_resolved,
        sum(disputes_mediated)
            filter (where disputes_mediated is not null and disputes_resolved is not null)
            as s02_mediated,
        sum(reoffenders)
            filter (where reoffenders is not null and correction_subjects is not null)
            as s03_reoffenders,
        sum(correction_subjects)
            filter (where reoffenders is not null and correction_subjects is not null)
            as s03_subjects,
        sum(major_criminal_cases) as major_criminal_cases,
        sum(mass_incidents) as mass_incidents,
        avg(satisfaction_rate) as mean_satisfaction_rate,
        avg(police_hours) as mean_police_hours,
        count(police_hours) as police_hours_reports,
        avg(legal_education_rate) as mean_legal_education_rate,
        sum(cases) as cases,
        sum(cases_population) as cases_population
    from reports
    group by grouping sets ((street, month), (month))
),

area_months as (
    select
        a.street, a.is_district, m.month,
        coalesce(n.communities_reporting, 0) as communities_reporting,
        coalesce(n.communities_compared, 0) as communities_compared,
        z.communities
    from areas as a
    cross join months as m
    inner join area_sizes as z on z.street is not distinct from a.street
    left join reporting_counts as n
        on n.street is not distinct from a.street
        and n.is_district = a.is_district
        and n.month = m.month
),

inputs as (
    select a.street, a.is_district, a.month, g.* exclude (street, is_district, month)
    from area_months as a
    left join grouped as g
        on g.street is not distinct from a.street
        and g.is_district = a.is_district
        and g.month = a.month
),

computed as (
    select
        street, is_district, month,
        'S01' as indicator_id,
        s01_mediated * 100.0 / nullif(s01_received, 0) as value,
        s01_mediated::double as numerator,
        s01_received::double as denominator
    from inputs

    union all

    select
        street, is_district, month, 'S02',
        s02_resolved * 100.0 / nullif(s02_mediated, 0), s02_resolved, s02_mediated
    from inputs

    union all

    select
        street, is_district, month, 'S03',
        s03_reoffenders * 100.0 / nullif(s03_subjects, 0), s03_reoffenders, s03_subjects
    from inputs

    union all

    select street, is_district, month, 'S04', major_criminal_cases, null, null
    from inputs

    union all

    select street, is_district, month, 'S05', mass_incidents, null, null
    from inputs

    union all

    select street, is_district, month, 'S06', mean_satisfaction_rate, null, null
    from inputs

    union all

    select
        street, is_district, month, 'S07',
        mean_police_hours, mean_police_hours * police_hours_reports, police_hours_reports
    from inputs

    union all

    select
        street, is_district, month, 'S08',
        mean_legal_education_rate, null, null
    from inputs

    union all

    select
        street, is_district, month, 'S09',
        cases * 1000.0 / nullif(cases_population, 0), cases, cases_population
    from inputs
),

final as (
    select
        v.street,
        v.is_district,
        v.month,
        v.indicator_id,
        v.value::double as value,
        v.numerator::double as numerator,
        v.denominator::double as denominator,
        a.communities_reporting,
        a.communities_compared,
        a.communities
    from computed as v
    inner join area_months as a
        on a.street is not distinct from v.street
        and a.is_district = v.is_district
        and a.month = v.month
)

select * from final
order by is_district desc, street, month, indicator_id
