-- Every street name present in communities, unscoped. Used only to expand the
-- single-user ALL_STREETS scope into an explicit street list; it
-- returns names only, never community data, and is the one query without a
-- scope parameter. Pages list streets with streets.sql, which is scoped.
-- One row per street, ordered by street.
-- Parameters: none

with final as (
    select distinct street
    from communities
)

select * from final
order by street
