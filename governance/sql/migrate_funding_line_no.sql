-- A database made before funding lines had a key: number each import's lines
-- in the order they were stored (their file order), then require the number.
alter table funding add column line_no integer;
update funding
set line_no = numbered.line_no
from (
    select rowid as stored_row, row_number() over (partition by import_id order by rowid) as line_no
    from funding
) as numbered
where funding.rowid = numbered.stored_row;
alter table funding alter column line_no set not null;
