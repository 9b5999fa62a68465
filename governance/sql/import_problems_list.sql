select _row, col_index, column_label, value, reason, detail
from problems
order by _row, col_index
limit $limit
