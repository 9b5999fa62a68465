-- Staged communities rows whose street is outside $scope_streets: row, value, street, total.
select _row, street, street, count(*) over () as total
from staged
where street is not null and not list_contains($scope_streets, street)
order by _row
limit $limit
