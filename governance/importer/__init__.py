"""Validate uploaded files completely, then apply a batch in one transaction.

The parts, in the order a file meets them:

- `types`: what a caller gives (SourceFile) and what it gets back (ImportReport,
  ImportResult, CellProblem);
- `staging`: one file decoded, parsed and checked into a private staging
  database (validate_file, guess_table);
- `checks`: the batch as a whole (validate_batch);
- `apply`: one transaction for the batch, then the backup (import_files,
  import_file).
"""

from governance.importer.apply import back_up_after, import_file, import_files
from governance.importer.checks import validate_batch
from governance.importer.staging import guess_table, validate_file
from governance.importer.types import (
    MAX_LISTED_PROBLEMS,
    PREVIEW_ROWS,
    CellProblem,
    ImportReport,
    ImportResult,
    Progress,
    SourceFile,
)

__all__ = [
    "MAX_LISTED_PROBLEMS", "PREVIEW_ROWS", "CellProblem", "ImportReport", "ImportResult",
    "Progress", "SourceFile", "back_up_after", "guess_table", "import_file", "import_files",
    "validate_batch", "validate_file",
]
