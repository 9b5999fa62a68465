"""Times as stored (naive UTC) and as shown (the server's local time).

Imports, scenarios and the audit log record UTC, so a copy moved between
machines stays comparable; people read the clock on their wall, which for a
bureau's server is its own time zone (Asia/Shanghai on a Chinese intranet).
"""

from __future__ import annotations

import pandas as pd
from dateutil.tz import tzlocal


def local_time(values: pd.Series) -> pd.Series:
    """Stored naive-UTC timestamps (datetimes or ISO strings) in the server's
    local time, naive and to the second, for display; missing stay missing.

    tzlocal follows the zone's rules, so a moment across a daylight-saving
    change gets its own offset (today's fixed offset would not)."""
    moments = pd.to_datetime(values, utc=True, format="ISO8601")
    return moments.dt.tz_convert(tzlocal()).dt.tz_localize(None).dt.floor("s")
