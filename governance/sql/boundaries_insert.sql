insert into community_boundaries (community_id, geometry_json, import_id)
select community_id, geometry_json, $import_id
from incoming_boundaries
