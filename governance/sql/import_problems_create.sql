-- Cell problems found while staging one file (private in-memory database).
create table problems (
    _row integer,
    col_index integer,
    column_label varchar,
    value varchar,
    reason varchar,
    detail varchar
)
