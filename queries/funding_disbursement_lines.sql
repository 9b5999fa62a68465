-- Every funding line of one calendar year with its disbursement timing (the
-- funding page's "late money" table; 001: 资金的拨付较为滞后, 往往由社区人员先自行垫支).
-- One row per funding line in $year for a visible community, ordered by
--   community_id, allocated_date (undated last), category, source, amount_yuan.
-- Columns: community_id, community_name, street, community_type, category, source,
--   amount_yuan (double), allocated_date, disbursed_date, delay_days, status,
--   days_outstanding.
-- Rules: status is the line's timing from the funding_lines_timed fragment, the
--   one on-time rule M05 uses ('undated', 'not_disbursed', 'on_time' when
--   delay_days ≤ $on_time_days, 'late'). delay_days is NULL
--   unless both dates exist. days_outstanding = $as_of_date − allocated_date for
--   not_disbursed lines only (never below 0), NULL otherwise.
-- Parameters: $scope_streets, $community_types, $year, $on_time_days,
--   $as_of_date

with
-- include: scoped_communities

-- include: funding_lines_timed

final as (
    select
        c.community_id,
        c.community_name,
        c.street,
        c.community_type,
        l.category,
        l.source,
        l.amount_yuan::double as amount_yuan,
        l.allocated_date,
        l.disbursed_date,
        l.delay_days,
        l.timing as status,
        case
            when l.timing = 'not_disbursed'
                then greatest(date_diff('day', l.allocated_date, $as_of_date::date), 0)
        end as days_outstanding
    from funding_lines_timed as l
    inner join scoped_communities as c using (community_id)
)

select * from final
order by community_id, allocated_date nulls last, category, source, amount_yuan
