-- Data tables that still hold rows written by a sample import (示例数据), in
-- contract order. The app shows the sample banner while this returns rows.
select table_name
from (
    select 1 as position, 'communities' as table_name
    where exists (
        select 1
        from communities as d
        join import_history as h on h.import_id = d.import_id
        where h.is_sample
    )
    union all
    select 2 as position, 'facilities' as table_name
    where exists (
        select 1
        from facilities as d
        join import_history as h on h.import_id = d.import_id
        where h.is_sample
    )
    union all
    select 3 as position, 'funding' as table_name
    where exists (
        select 1
        from funding as d
        join import_history as h on h.import_id = d.import_id
        where h.is_sample
    )
    union all
    select 4 as position, 'safety' as table_name
    where exists (
        select 1
        from safety as d
        join import_history as h on h.import_id = d.import_id
        where h.is_sample
    )
    union all
    select 5 as position, 'residences' as table_name
    where exists (
        select 1
        from residences as d
        join import_history as h on h.import_id = d.import_id
        where h.is_sample
    )
    union all
    select 6 as position, 'incidents' as table_name
    where exists (
        select 1
        from incidents as d
        join import_history as h on h.import_id = d.import_id
        where h.is_sample
    )
)
order by position
