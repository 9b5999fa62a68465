-- A staged communities file's streets: priority 1, below the stored ones (a
-- street account may add communities, never move one).
select community_id, street, 1 as priority from staged where community_id is not null
