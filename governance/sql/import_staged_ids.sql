select distinct community_id from staged where community_id is not null
