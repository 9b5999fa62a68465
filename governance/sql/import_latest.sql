-- The latest applied import of a table: an identical re-upload (same bytes read
-- in the same coordinate system) changes nothing.
select import_id, sha256, coordinate_system
from import_history
where table_name = $table_name
order by import_id desc
limit 1
