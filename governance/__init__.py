"""社区治理指标看板: all logic of the dashboard, independent of Streamlit.

contract   what may be uploaded (tables, columns, aliases, rules, codes)
catalogue  indicators, thresholds, policy sources and settings (catalogue.toml)
importer   decode, parse, validate and apply uploads in one transaction
indicators run queries/*.sql and shape their results
sample     the reproducible sample district
cli        `python -m governance …`
"""
