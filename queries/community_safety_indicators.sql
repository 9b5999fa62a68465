-- Safety indicators S01–S09 for every community the viewer can see, over the
-- months $month_from..$month_to inclusive (both the first day of a month), in
-- long format with the status from indicator_status().
-- One row per community × indicator (S01–S09), ordered by community_id, indicator_id.
-- Columns: community_id, indicator_id, value, floor_value, target_value, status,
--   numerator, denominator (the two inputs of a ratio, NULL where not a ratio),
--   community_name, street, community_type, months_reported (months in range with
--   a report), months_in_period (calendar months in range), months_required (the
--   fewest reported months that let the period be rated).
-- Rules: a missing measure is NULL, never 0; sums and means skip missing months.
--   S01 pairs months where both received and mediated are reported (S02: mediated
--   and resolved); a zero denominator → no_data. S03 = Σ reoffenders / mean
--   correction_subjects × 100 (mean 0 or none → no_data). S07 = Σ police_hours /
--   months with a value. S08 = the latest month in range with a value. S09 =
--   Σ (criminal + public order cases) / population × 1000 (no_data when both sums
--   are missing or population is 0). No report in range → every indicator no_data.
-- Reporting completeness: a community-month without a report is 未报送.
--   months_required = ceil($min_reported_months_pct (clamped to 0–100) % of
--   months_in_period). With fewer months reported, every indicator is no_data
--   with value, numerator and denominator NULL (报送不足) — except S04/S05 when
--   the reported months already exceed the limit: those sums can only grow with
--   the missing months, so not_met stands (the red flags stay red).
-- Parameters: $scope_streets, $community_types, $thresholds, $month_from, $month_to,
--   $min_reported_months_pct

with
-- include: scoped_communities

-- include: standards

reports as (
    select *
    from safety
    where month between $month_from and $month_to
),

period_months as (
    select count(*) as months_in_period
    from (
        select unnest(generate_series(
            cast($month_from as timestamp), cast($month_to as timestamp), interval 1 month
        ))
    )
),

completeness as (
    select
        months_in_period,
        -- round() absorbs binary error (100 / 3 % of 3 months is 1, not 1.0000001).
        cast(ceil(round(
            least(greatest(cast($min_reported_months_pct as double), 0), 100)
                * months_in_period / 100.0,
            6
        )) as integer) as months_required
    from period_months
),

report_totals as (
    select
        community_id,
        count(distinct month) as months_reported,
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
        sum(reoffenders) as reoffenders,
        avg(correction_subjects) as mean_correction_subjects,
        sum(major_criminal_cases) as major_criminal_cases,
        sum(mass_incidents) as mass_incidents,
        avg(satisfaction_rate) as mean_satisfaction_rate,
        sum(police_hours) as police_hours,
        count(police_hours) as police_hours_months,
        arg_max(legal_education_rate, month) filter (where legal_education_rate is not null)
            as latest_legal_education_rate,
        case
            when count(criminal_cases) + count(public_order_cases) > 0
                then coalesce(sum(criminal_cases), 0) + coalesce(sum(public_order_cases), 0)
        end as cases
    from reports
    group by community_id
),

inputs as (
    select c.*, r.* exclude (community_id)
    from scoped_communities as c
    left join report_totals as r using (community_id)
),

reporting as (
    select
        c.community_id,
        coalesce(r.months_reported, 0) as months_reported,
        p.months_in_period,
        p.months_required,
        coalesce(r.months_reported, 0) >= p.months_required as enough_months
    from scoped_communities as c
    cross join completeness as p
    left join report_totals as r using (community_id)
),

computed as (
    select
        community_id,
        'S01' as indicator_id,
        s01_mediated * 100.0 / nullif(s01_received, 0) as value,
        s01_mediated::double as numerator,
        s01_received::double as denominator
    from inputs

    union all

    select
        community_id, 'S02', s02_resolved * 100.0 / nullif(s02_mediated, 0),
        s02_resolved, s02_mediated
    from inputs

    union all

    select
        community_id, 'S03', reoffenders * 100.0 / nullif(mean_correction_subjects, 0),
        reoffenders, mean_correction_subjects
    from inputs

    union all

    select community_id, 'S04', major_criminal_cases, null, null
    from inputs

    union all

    select community_id, 'S05', mass_incidents, null, null
    from inputs

    union all

    select community_id, 'S06', mean_satisfaction_rate, null, null
    from inputs

    union all

    select
        community_id, 'S07', police_hours / nullif(police_hours_months, 0),
        police_hours, police_hours_months
    from inputs

    union all

    select community_id, 'S08', latest_legal_education_rate, null, null
    from inputs

    union all

    select
        community_id, 'S09', cases * 1000.0 / nullif(population, 0),
        cases, population
    from inputs
),

rated_values as (
    select
        v.*,
        t.direction,
        t.floor_value,
        t.target_value,
        r.months_reported,
        r.months_in_period,
        r.months_required,
        -- Rated when enough months are reported; S04/S05 also when the reported
        -- months alone already break the limit.
        r.enough_months
            or (v.indicator_id in ('S04', 'S05') and v.value is not null
                and indicator_status(v.value, t.floor_value, t.target_value, t.direction)
                    <> 'met') as rated
    from computed as v
    inner join reporting as r using (community_id)
    left join standards as t using (indicator_id)
),

final as (
    select
        v.community_id,
        v.indicator_id,
        case when v.rated then v.value end::double as value,
        v.floor_value,
        v.target_value,
        indicator_status(
            case when v.rated then v.value end, v.floor_value, v.target_value, v.direction
        ) as status,
        case when v.rated then v.numerator end::double as numerator,
        case when v.rated then v.denominator end::double as denominator,
        c.community_name,
        c.street,
        c.community_type,
        v.months_reported::integer as months_reported,
        v.months_in_period::integer as months_in_period,
        v.months_required::integer as months_required
    from rated_values as v
    inner join scoped_communities as c using (community_id)
)

select * from final
order by community_id, indicator_id
