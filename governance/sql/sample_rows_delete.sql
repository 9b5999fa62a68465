-- Remove every row a sample import (示例数据) wrote, in every data table: the
-- sample district leaves as one unit. Run inside the caller's transaction.
delete from communities
where import_id in (select import_id from import_history where is_sample);
delete from facilities
where import_id in (select import_id from import_history where is_sample);
delete from funding
where import_id in (select import_id from import_history where is_sample);
delete from safety
where import_id in (select import_id from import_history where is_sample);
delete from residences
where import_id in (select import_id from import_history where is_sample);
delete from incidents
where import_id in (select import_id from import_history where is_sample);
delete from community_boundaries
where import_id in (select import_id from import_history where is_sample);
