-- Funding for one calendar year broken down by category and source, for every
-- community the viewer can see (the funding page's composition table and chart).
-- One row per community × category × source with at least one line in $year,
--   ordered by community_id, category, source.
-- Columns: community_id, community_name, street, community_type, category, source,
--   amount_yuan (double), lines.
-- Rules: lines of other years are ignored; a zero-amount line still counts in lines.
--   Communities with no line in $year have no rows (the page shows them as 0).
-- Parameters: $scope_streets, $community_types, $year

with
-- include: scoped_communities

year_lines as (
    select community_id, category, source, amount_yuan
    from funding
    where year = $year
),

grouped as (
    select
        community_id,
        category,
        source,
        sum(amount_yuan) as amount_yuan,
        count(*) as lines
    from year_lines
    group by community_id, category, source
),

final as (
    select
        c.community_id,
        c.community_name,
        c.street,
        c.community_type,
        g.category,
        g.source,
        g.amount_yuan::double as amount_yuan,
        g.lines
    from grouped as g
    inner join scoped_communities as c using (community_id)
)

select * from final
order by community_id, category, source
