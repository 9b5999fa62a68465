-- Stored communities' streets, for the street-scope check: priority 0, so a
-- stored community keeps its street whatever a file of the same batch says.
select community_id, street, 0 as priority from communities
