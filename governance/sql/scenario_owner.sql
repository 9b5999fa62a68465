-- Who saved a scenario (scenarios.saved_by), for the ownership rule; no row
-- when no scenario has that name.
select saved_by from scenarios where name = $name
