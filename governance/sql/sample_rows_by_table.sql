-- How many rows each data table still holds from a sample import (示例数据),
-- in contract order, boundaries last. One row per table that holds any.
-- Columns: table_name, sample_rows.
with sample_imports as (
    select import_id
    from import_history
    where is_sample
),

counts as (
    select 1 as position, 'communities' as table_name, count(*) as sample_rows
    from communities semi join sample_imports using (import_id)
    union all
    select 2, 'facilities', count(*)
    from facilities semi join sample_imports using (import_id)
    union all
    select 3, 'funding', count(*)
    from funding semi join sample_imports using (import_id)
    union all
    select 4, 'safety', count(*)
    from safety semi join sample_imports using (import_id)
    union all
    select 5, 'residences', count(*)
    from residences semi join sample_imports using (import_id)
    union all
    select 6, 'incidents', count(*)
    from incidents semi join sample_imports using (import_id)
    union all
    select 7, 'boundaries', count(*)
    from community_boundaries semi join sample_imports using (import_id)
),

final as (
    select table_name, sample_rows
    from counts
    where sample_rows > 0
    order by position
)

select * from final
