select community_id, street, 0 as priority from staged where community_id is not null
