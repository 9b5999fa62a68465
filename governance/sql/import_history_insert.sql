insert into import_history (
    import_id, table_name, file_name, sha256, rows_in_file, rows_replaced,
    applied_at, applied_by, is_sample, notes, coordinate_system
) values (
    $import_id, $table_name, $file_name, $sha256, $rows_in_file, $rows_replaced,
    $applied_at, $applied_by, $is_sample, $notes, $coordinate_system
)
