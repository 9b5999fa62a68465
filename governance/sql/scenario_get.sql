select payload_json from scenarios where name = $name
