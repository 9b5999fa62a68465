-- Stored communities that an incoming communities file (incoming_streets:
-- community_id, street) puts under another street. Only an administrator's
-- import may do this; it is said in the import's result and the audit log.
-- One row per moved community: community_id, community_name, street_before,
-- street_after, ordered by community_id.
with final as (
    select
        c.community_id,
        c.community_name,
        c.street as street_before,
        i.street as street_after
    from communities as c
    inner join incoming_streets as i using (community_id)
    where i.street is not null
      and i.street <> c.street
)

select * from final
order by community_id
