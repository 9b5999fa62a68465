-- District 公益创投 (category public_welfare) per year against the budget line of
-- seed 000 (每年安排100万元专项资金); the page's district rows (community_id '*').
-- One row per year with funding lines for a visible community, oldest first
--   (years without any public_welfare line show 0 yuan and 0 communities).
-- Columns: year, public_welfare_yuan (double), lines, communities_funded (distinct
--   communities with a public_welfare line of amount > 0), budget_yuan,
--   share_of_budget_pct (NULL when the budget is 0 or NULL).
-- Parameters: $scope_streets, $community_types, $public_welfare_budget_yuan

with
-- include: scoped_communities

scoped_lines as (
    select f.year, f.community_id, f.category, f.amount_yuan
    from funding as f
    inner join scoped_communities using (community_id)
),

yearly as (
    select
        year,
        coalesce(sum(amount_yuan) filter (where category = 'public_welfare'), 0)::double
            as public_welfare_yuan,
        count(*) filter (where category = 'public_welfare') as lines,
        count(distinct community_id)
            filter (where category = 'public_welfare' and amount_yuan > 0)
            as communities_funded
    from scoped_lines
    group by year
),

final as (
    select
        year,
        public_welfare_yuan,
        lines,
        communities_funded,
        $public_welfare_budget_yuan::double as budget_yuan,
        public_welfare_yuan * 100
            / nullif($public_welfare_budget_yuan::double, 0) as share_of_budget_pct
    from yearly
)

select * from final
order by year
