-- Staged rows citing a community whose street is outside $scope_streets
-- (ref_streets: community_id, street, priority — a stored community's street,
-- priority 0, wins over what the batch's own communities file says, priority
-- 1). Unknown communities are reported by the reference check instead.
-- Columns: row, value, street, total.
select s._row, s.community_id, r.street, count(*) over () as total
from staged as s
inner join (
    select community_id, arg_min(street, priority) as street
    from ref_streets
    group by community_id
) as r using (community_id)
where not list_contains($scope_streets, r.street)
order by s._row
limit $limit
