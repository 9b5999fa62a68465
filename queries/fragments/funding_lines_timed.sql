-- The funding lines of $year, each with its disbursement timing: the one
-- place the on-time rule of M05 (按时到账率) is written. timing is 'undated'
-- (no allocated_date), 'not_disbursed' (no disbursed_date), 'on_time'
-- (delay_days ≤ $on_time_days) or 'late'; delay_days = disbursed − allocated
-- in days, NULL unless both dates exist.
-- CTEs: funding_lines_timed (community_id, category, source, amount_yuan,
--   allocated_date, disbursed_date, delay_days, timing)
-- Parameters: $year, $on_time_days
funding_lines_timed as (
    select
        community_id,
        category,
        source,
        amount_yuan,
        allocated_date,
        disbursed_date,
        date_diff('day', allocated_date, disbursed_date) as delay_days,
        case
            when allocated_date is null then 'undated'
            when disbursed_date is null then 'not_disbursed'
            when date_diff('day', allocated_date, disbursed_date) <= $on_time_days
                then 'on_time'
            else 'late'
        end as timing
    from funding
    where year = $year
),
