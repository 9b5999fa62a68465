select nextval('import_id_seq') as import_id
