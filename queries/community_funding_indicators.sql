-- Funding indicators M01–M07 for every community the viewer can see, for one
-- calendar year of funding lines, in long format with the status from
-- indicator_status().
-- One row per community × indicator (M01–M07), ordered by community_id, indicator_id.
-- Columns: community_id, indicator_id, value, floor_value, target_value, status,
--   numerator, denominator (the two inputs of a ratio, NULL where not a ratio),
--   community_name, street, community_type.
-- Rules: a community with no funding line in $year → M01–M05 no_data; with lines
--   but none of a category → that category's sum is a real 0. Zero denominators →
--   no_data. M05 counts only lines with both dates; none → no_data. M06 and M07
--   come from community attributes and do not depend on $year.
-- Parameters: $scope_streets, $community_types, $thresholds, $year,
--   $on_time_days, $local_avg_monthly_wage_yuan

with
-- include: scoped_communities

-- include: standards

-- include: funding_lines_timed

line_totals as (
    select
        community_id,
        count(*) as lines,
        sum(amount_yuan) as total_yuan,
        coalesce(sum(amount_yuan) filter (where category = 'office'), 0) as office_yuan,
        coalesce(sum(amount_yuan) filter (where category = 'party_building'), 0)
            as party_building_yuan,
        coalesce(sum(amount_yuan) filter (where source <> 'fiscal'), 0) as non_fiscal_yuan,
        count(*) filter (where timing in ('on_time', 'late')) as dated_lines,
        count(*) filter (where timing = 'on_time') as on_time_lines
    from funding_lines_timed
    group by community_id
),

inputs as (
    select
        c.*,
        l.total_yuan::double as total_yuan,
        l.office_yuan::double as office_yuan,
        l.party_building_yuan::double as party_building_yuan,
        l.non_fiscal_yuan::double as non_fiscal_yuan,
        l.dated_lines,
        l.on_time_lines
    from scoped_communities as c
    left join line_totals as l using (community_id)
),

computed as (
    select
        community_id,
        'M01' as indicator_id,
        office_yuan as value,
        null::double as numerator,
        null::double as denominator
    from inputs

    union all

    select community_id, 'M02', party_building_yuan, null, null
    from inputs

    union all

    select community_id, 'M03', total_yuan / nullif(households, 0), total_yuan, households
    from inputs

    union all

    select
        community_id, 'M04', non_fiscal_yuan * 100 / nullif(total_yuan, 0),
        non_fiscal_yuan, total_yuan
    from inputs

    union all

    select
        community_id, 'M05', on_time_lines * 100.0 / nullif(dated_lines, 0),
        on_time_lines, dated_lines
    from inputs

    union all

    select
        community_id,
        'M06',
        staff_avg_monthly_pay::double * 100 / nullif($local_avg_monthly_wage_yuan::double, 0),
        staff_avg_monthly_pay,
        $local_avg_monthly_wage_yuan::double
    from inputs

    union all

    select
        community_id, 'M07', certified_social_workers * 100.0 / nullif(staff_count, 0),
        certified_social_workers, staff_count
    from inputs
),

final as (
    select
        v.community_id,
        v.indicator_id,
        v.value::double as value,
        t.floor_value,
        t.target_value,
        indicator_status(v.value, t.floor_value, t.target_value, t.direction) as status,
        v.numerator::double as numerator,
        v.denominator::double as denominator,
        c.community_name,
        c.street,
        c.community_type
    from computed as v
    inner join scoped_communities as c using (community_id)
    left join standards as t using (indicator_id)
)

select * from final
order by community_id, indicator_id
