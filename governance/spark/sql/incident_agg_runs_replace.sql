-- The one run the incident_agg_* tables now hold.
delete from incident_agg_runs;
insert into incident_agg_runs values (
    $month_from, $month_to, $as_of, $scope_streets, $engine, $source, $computed_at, $imported_at
);
