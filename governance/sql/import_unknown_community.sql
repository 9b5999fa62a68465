-- Staged rows whose community id is neither in the reference set (ref_ids).
insert into problems
select s._row, $col_index, $label, s.community_id, 'unknown_community', null
from staged s
where s.community_id is not null
  and not exists (select 1 from ref_ids r where r.community_id = s.community_id)
