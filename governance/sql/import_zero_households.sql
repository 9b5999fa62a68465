-- Communities of a staged communities file whose households are 0: accepted
-- (a new estate may have no residents yet) but said in the import's notes.
-- One row: how many, and the first 3 community ids in file order.
select
    count(*) as communities,
    (list(community_id order by _row))[1:3] as examples
from staged
where households = 0
