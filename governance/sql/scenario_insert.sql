insert into scenarios (name, payload_json, changes, saved_at, saved_by)
values ($name, $payload_json, $changes, $saved_at, $saved_by)
