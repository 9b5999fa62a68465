"""governance/coords.py: WGS-84 / GCJ-02 / BD-09 conversions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance import coords

R = 6_371_008.8


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Haversine distance in metres."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * R * np.arcsin(np.sqrt(a))


# A grid over mainland China and its coast (inside the out-of-China box).
LON, LAT = np.meshgrid(np.linspace(74.0, 134.0, 41), np.linspace(18.0, 53.0, 36))
LON, LAT = LON.ravel(), LAT.ravel()


def test_known_offset_magnitudes_in_eastern_china():
    # Hefei, Shanghai, Beijing, Guangzhou, and the sample district (117.0, 32.6).
    lon = np.array([117.283, 121.473, 116.397, 113.264, 117.0])
    lat = np.array([31.861, 31.230, 39.907, 23.129, 32.6])
    g_lon, g_lat = coords.wgs84_to_gcj02(lon, lat)
    offset = metres(lon, lat, g_lon, g_lat)
    assert ((offset > 300) & (offset < 700)).all(), offset
    # GCJ-02 moves eastern China east and (mostly) north.
    assert (g_lon > lon).all()
    b_lon, b_lat = coords.gcj02_to_bd09(g_lon, g_lat)
    bd_offset = metres(g_lon, g_lat, b_lon, b_lat)
    assert ((bd_offset > 500) & (bd_offset < 1200)).all(), bd_offset


def test_a_published_reference_point():
    # Tiananmen (WGS-84 116.391275, 39.906217) → GCJ-02 ≈ (116.397518, 39.907620),
    # the value every implementation of the published algorithm gives (±1e-5°).
    g_lon, g_lat = coords.wgs84_to_gcj02(116.391275, 39.906217)
    assert float(g_lon) == pytest.approx(116.3975, abs=2e-4)
    assert float(g_lat) == pytest.approx(39.9076, abs=2e-4)


def test_round_trips_within_half_a_metre():
    for forward, inverse in [
        (coords.wgs84_to_gcj02, coords.gcj02_to_wgs84),
        (coords.gcj02_to_bd09, coords.bd09_to_gcj02),
        (coords.wgs84_to_bd09, coords.bd09_to_wgs84),
    ]:
        back_lon, back_lat = inverse(*forward(LON, LAT))
        assert metres(LON, LAT, back_lon, back_lat).max() < 0.5, forward.__name__
    # and the other way round
    w_lon, w_lat = coords.gcj02_to_wgs84(LON, LAT)
    again_lon, again_lat = coords.wgs84_to_gcj02(w_lon, w_lat)
    assert metres(LON, LAT, again_lon, again_lat).max() < 0.5


@settings(max_examples=200, deadline=None)
@given(
    st.floats(min_value=73.0, max_value=135.0, allow_nan=False),
    st.floats(min_value=3.0, max_value=53.0, allow_nan=False),
)
def test_round_trip_property(lon, lat):
    for system in ("gcj02", "bd09"):
        forward = coords.wgs84_to_gcj02 if system == "gcj02" else coords.wgs84_to_bd09
        back = coords.to_wgs84(*forward(lon, lat), system)
        assert metres(lon, lat, *back) < 0.5


def test_outside_china_gcj_is_identity():
    lon = np.array([2.35, -74.0, 139.69, 151.2, 100.5])  # Paris, New York, Tokyo, Sydney
    lat = np.array([48.86, 40.71, 35.69, -33.87, 0.5])  # …and a point south of the box
    assert coords.out_of_china(lon, lat).all()
    g_lon, g_lat = coords.wgs84_to_gcj02(lon, lat)
    np.testing.assert_array_equal(g_lon, lon)
    np.testing.assert_array_equal(g_lat, lat)
    w_lon, w_lat = coords.gcj02_to_wgs84(lon, lat)
    np.testing.assert_array_equal(w_lon, lon)
    np.testing.assert_array_equal(w_lat, lat)
    # BD-09 still applies its own offset everywhere; the round trip holds.
    b = coords.wgs84_to_bd09(lon, lat)
    assert metres(lon, lat, *coords.bd09_to_wgs84(*b)).max() < 0.5


def test_to_wgs84_dispatch_shapes_and_nan():
    lon, lat = coords.to_wgs84(117.0, 32.6, "wgs84")
    assert (float(lon), float(lat)) == (117.0, 32.6)
    lon, lat = coords.to_wgs84([117.0, np.nan], [32.6, 32.6], "gcj02")
    assert lon.shape == (2,) and np.isnan(lon[1]) and np.isfinite(lon[0])
    with pytest.raises(ValueError):
        coords.to_wgs84(117.0, 32.6, "cgcs2000")


def test_vectorised_equals_elementwise():
    lon, lat = LON[:50], LAT[:50]
    v_lon, v_lat = coords.bd09_to_wgs84(lon, lat)
    for i in range(50):
        e_lon, e_lat = coords.bd09_to_wgs84(lon[i], lat[i])
        assert float(e_lon) == pytest.approx(v_lon[i], abs=1e-9)
        assert float(e_lat) == pytest.approx(v_lat[i], abs=1e-9)
