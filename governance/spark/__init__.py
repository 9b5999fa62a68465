"""The indicator SQL on Apache Spark, where a province keeps its data.

translate.py   queries/*.sql (DuckDB dialect) → Spark SQL with sqlglot, one step
engine.py      a pinned Spark session, the contract's tables, queries with bound markers
export.py      `python -m governance export`: the contract's tables as Parquet
aggregates.py  the 平安建设 event aggregations as tables the dashboard imports
cli.py         the command-line parts; submit.py is what spark-submit runs

pyspark is needed only when Spark is asked for (requirements-dev.txt, or a
provincial install); the dashboard never imports it.
"""
