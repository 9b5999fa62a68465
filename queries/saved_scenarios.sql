-- The saved what-if scenarios, for the scenario picker and the scenario page.
-- One row per saved scenario, newest first. The baseline (policy defaults) is
-- never stored, so it never appears here.
-- Columns: name, saved_at, saved_by, changes (thresholds and settings changed).
-- Parameters: none

with final as (
    select name, saved_at, saved_by, changes
    from scenarios
)

select * from final
order by saved_at desc, name
