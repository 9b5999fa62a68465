-- The latest applied import of a table: an identical re-upload changes nothing.
select import_id, sha256
from import_history
where table_name = $table_name
order by import_id desc
limit 1
