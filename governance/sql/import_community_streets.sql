select community_id, street, 1 as priority from communities
