"""Coordinate systems used by Chinese map data: WGS-84, GCJ-02 and BD-09.

* WGS-84 — GPS, and what the coverage engine and the boundary layer assume.
* GCJ-02 (国测局坐标, "Mars" coordinates) — Gaode/AMap, Tencent and most
  government web maps: WGS-84 plus an obfuscating offset of some 300–700 m in
  eastern China. Outside the standard out-of-China box (lon 72.004–137.8347,
  lat 0.8293–55.8271) no offset is applied, as the published algorithm does.
* BD-09 (百度坐标) — Baidu: a further rotation/offset of GCJ-02, applied
  everywhere (outside China Baidu's GCJ-02 equals WGS-84).

Every function takes longitudes and latitudes in degrees — scalars or
array-likes of the same shape — and returns a (lon, lat) pair of float64 numpy
arrays (0-d for scalar input; `float(x)` gives the number). NaN stays NaN.
The forward transforms are the published closed forms; the inverses
(GCJ-02 → WGS-84, BD-09 → GCJ-02) iterate the forward one to a fixed point,
which converges to well under a millimetre (round trips within 0.5 m are
tested; in practice ~1e-9°).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

System = Literal["wgs84", "gcj02", "bd09"]
SYSTEMS: tuple[System, ...] = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0

_INVERSE_ITERATIONS = 30
_INVERSE_TOLERANCE_DEG = 1e-10

Pair = tuple[NDArray[np.float64], NDArray[np.float64]]


def _arrays(lon: ArrayLike, lat: ArrayLike) -> Pair:
    lon_a = np.asarray(lon, dtype=np.float64)
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a, lat_a = np.broadcast_arrays(lon_a, lat_a)
    return lon_a.astype(np.float64, copy=True), lat_a.astype(np.float64, copy=True)


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where the standard GCJ-02 box does not apply (no offset there)."""
    lon_a, lat_a = _arrays(lon, lat)
    return (lon_a < 72.004) | (lon_a > 137.8347) | (lat_a < 0.8293) | (lat_a > 55.8271)


def _transform_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_offset(lon: NDArray[np.float64], lat: NDArray[np.float64]) -> Pair:
    """The GCJ-02 offset (degrees) at a WGS-84 position, zero outside China."""
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    lon_a, lat_a = _arrays(lon, lat)
    dlon, dlat = _gcj_offset(lon_a, lat_a)
    return lon_a + dlon, lat_a + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Iterative inverse: w ← w − (gcj(w) − g), from w = g."""
    g_lon, g_lat = _arrays(lon, lat)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(_INVERSE_ITERATIONS):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon, e_lat = f_lon - g_lon, f_lat - g_lat
        w_lon, w_lat = w_lon - e_lon, w_lat - e_lat
        error = np.fmax(np.abs(e_lon), np.abs(e_lat))
        if not np.any(error > _INVERSE_TOLERANCE_DEG):  # NaN compares False: done
            break
    outside = out_of_china(g_lon, g_lat)
    return np.where(outside, g_lon, w_lon), np.where(outside, g_lat, w_lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_closed_form(x: NDArray[np.float64], y: NDArray[np.float64]) -> Pair:
    x = x - 0.0065
    y = y - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """The published closed form, refined by fixed-point iteration."""
    b_lon, b_lat = _arrays(lon, lat)
    g_lon, g_lat = _bd09_to_gcj02_closed_form(b_lon, b_lat)
    for _ in range(_INVERSE_ITERATIONS):
        f_lon, f_lat = gcj02_to_bd09(g_lon, g_lat)
        e_lon, e_lat = f_lon - b_lon, f_lat - b_lat
        g_lon, g_lat = g_lon - e_lon, g_lat - e_lat
        if not np.any(np.fmax(np.abs(e_lon), np.abs(e_lat)) > _INVERSE_TOLERANCE_DEG):
            break
    return g_lon, g_lat


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> Pair:
    """Coordinates in `system` ('wgs84', 'gcj02' or 'bd09') → WGS-84."""
    if system == "wgs84":
        return _arrays(lon, lat)
    if system == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if system == "bd09":
        return bd09_to_wgs84(lon, lat)
    raise ValueError(f"unknown coordinate system {system!r}; expected one of {SYSTEMS}")
