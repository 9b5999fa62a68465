-- Applied imports, newest first, for the data page.
-- One row per applied import (file).
-- Parameters: $limit_rows
select
    import_id,
    table_name,
    file_name,
    sha256,
    rows_in_file,
    rows_replaced,
    applied_at,
    applied_by,
    is_sample
from import_history
order by import_id desc
limit $limit_rows
