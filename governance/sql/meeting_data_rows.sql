-- What each data table holds for each visible community, so that a meeting's
-- follow-up can say why an indicator moved between two data versions
-- (governance/meetings.py runs it on the meeting's snapshot and on the
-- current data, and compares the two results).
-- One row per community × table × period: safety per month ('YYYY-MM', within
-- $month_from .. $month_to), funding per year ($year), communities, facilities
-- and residences once ('' for the whole table).
-- Columns: community_id, table_name, period_key, import_id (the newest import
-- that wrote the rows), fingerprint (md5 of the values; import ids and file
-- row numbers left out, so the same figures imported again give the same one).
-- Parameters: $scope_streets, $year, $month_from, $month_to
with visible as (
    select community_id
    from communities
    where list_contains($scope_streets, street)
),

table_rows as (
    select
        'communities' as table_name,
        community_id,
        '' as period_key,
        import_id,
        cast(struct_pack(*columns(* exclude (import_id))) as varchar) as row_text
    from communities
    union all
    select
        'facilities', community_id, '', import_id,
        cast(struct_pack(*columns(* exclude (import_id))) as varchar)
    from facilities
    union all
    select
        'residences', community_id, '', import_id,
        cast(struct_pack(*columns(* exclude (import_id))) as varchar)
    from residences
    union all
    select
        'safety', community_id, strftime(month, '%Y-%m'), import_id,
        cast(struct_pack(*columns(* exclude (import_id))) as varchar)
    from safety
    where month between $month_from and $month_to
    union all
    select
        'funding', community_id, cast(year as varchar), import_id,
        cast(struct_pack(*columns(* exclude (import_id, line_no))) as varchar)
    from funding
    where year = $year
),

final as (
    select
        community_id,
        table_name,
        period_key,
        max(import_id) as import_id,
        md5(string_agg(row_text, '|' order by row_text)) as fingerprint
    from table_rows
    where community_id in (select community_id from visible)
    group by community_id, table_name, period_key
)

select community_id, table_name, period_key, import_id, fingerprint
from final
order by community_id, table_name, period_key
