"""The script spark-submit runs: `python -m governance` with the session
spark-submit configures (cluster master, resources, Hive metastore).

    spark-submit --master yarn governance/spark/submit.py indicators --engine spark \
        --source hive:governance --from 2025-01 --to 2025-12 --out indicators.csv

The driver runs where this repository is checked out (client mode, the
default): it reads queries/ from disk. Executors run only Spark SQL, never
Python code of ours, so they need nothing from this repository.
"""

import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from governance.cli import main

    sys.exit(main(sys.argv[1:]))
