"""Times as stored (naive UTC) and as shown (the server's local time).

Imports, scenarios and the audit log record UTC, so a copy moved between
machines stays comparable; people read the clock on their wall, which for a
bureau's server is its own time zone (Asia/Shanghai on a Chinese intranet).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd


def utc_now() -> datetime:
    """Now, as stored: naive UTC, to the microsecond."""
    return datetime.now(UTC).replace(tzinfo=None)


def local_time(values: pd.Series) -> pd.Series:
    """Stored naive-UTC timestamps (datetimes or ISO strings) in the server's
    local time, naive and to the second, for display; missing stay missing."""
    moments = pd.to_datetime(values, utc=True)
    here = datetime.now().astimezone().tzinfo
    return moments.dt.tz_convert(here).dt.tz_localize(None).dt.floor("s")
