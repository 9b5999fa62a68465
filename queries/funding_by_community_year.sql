-- Total funding per community and year over every year in the data, with the
-- change on the previous calendar year (the funding page's trend and
-- year-on-year table).
-- One row per community × year with at least one funding line, ordered by
--   community_id, year.
-- Columns: community_id, community_name, street, community_type, households, year,
--   total_yuan (double), lines, per_household_yuan (NULL when households = 0),
--   previous_year_total_yuan, change_yuan, change_pct (NULL unless the community
--   has lines in year − 1; change_pct also NULL when that total is 0).
-- Rules: households are today's count for every year (history is not kept).
-- Parameters: $scope_streets, $community_types

with
-- include: scoped_communities

yearly as (
    select
        community_id,
        year,
        sum(amount_yuan)::double as total_yuan,
        count(*) as lines
    from funding
    group by community_id, year
),

with_previous as (
    select
        y.*,
        p.total_yuan as previous_year_total_yuan
    from yearly as y
    left join yearly as p
        on p.community_id = y.community_id
        and p.year = y.year - 1
),

final as (
    select
        c.community_id,
        c.community_name,
        c.street,
        c.community_type,
        c.households,
        w.year,
        w.total_yuan,
        w.lines,
        w.total_yuan / nullif(c.households, 0) as per_household_yuan,
        w.previous_year_total_yuan,
        w.total_yuan - w.previous_year_total_yuan as change_yuan,
        (w.total_yuan - w.previous_year_total_yuan) * 100
            / nullif(w.previous_year_total_yuan, 0) as change_pct
    from with_previous as w
    inner join scoped_communities as c using (community_id)
)

select * from final
order by community_id, year
