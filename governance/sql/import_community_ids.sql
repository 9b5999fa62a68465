-- Stored community ids, the reference for files that are not communities.
select distinct community_id from communities
