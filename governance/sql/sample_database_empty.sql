-- True when the database holds no communities and no import record at all:
-- only then is the shipped sample loaded (governance.sample.ensure_sample_loaded).
select
    not exists (select 1 from communities)
    and not exists (select 1 from import_history) as is_empty
