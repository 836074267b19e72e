"""DSAS statistics against CoastSat's published Narrabeen series; tides; transect intersections; bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from shapely.geometry import LineString, MultiLineString

from products.errors import InvalidParameters
from products.registry import get
from products.shoreline_transects import Transect, chainage, change_statistics, decimal_years
from products.tide import TideError, WaterLevels, read_water_levels, tide_correction, to_datetime64

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def narrabeen(shared_file):
    df = pd.read_csv(shared_file("shoreline/coastsat_narrabeen/NARRA_time_series_tidally_corrected.csv"))
    df["dates"] = pd.to_datetime(df["dates"], utc=True)
    return df


@pytest.mark.parametrize("transect", ["NA1", "NA2", "NA3", "NA4", "NA5"])
def test_narrabeen_rates_match_an_independent_linear_fit(narrabeen, transect):
    times = to_datetime64(narrabeen["dates"])
    x = narrabeen[transect].to_numpy(float)
    st = change_statistics(times, x)
    ok = np.isfinite(x)
    d = narrabeen["dates"][ok]
    # independent time axis: calendar decimal years (year + fraction of that year)
    frac = (d.dt.day_of_year - 1 + (d.dt.hour * 3600 + d.dt.minute * 60 + d.dt.second) / 86400) / np.where(d.dt.is_leap_year, 366, 365)
    dec_year = (d.dt.year + frac).to_numpy()
    slope, intercept = np.polyfit(dec_year, x[ok], 1)
    assert st.n == ok.sum() > 400
    assert st.lrr == pytest.approx(slope, rel=0.01)  # the done-when bar; measured agreement ~1e-4
    assert abs(st.lrr - slope) < 0.01 * abs(slope)
    # same time axis as the code (365.25-day years): identical up to rounding
    yrs = decimal_years(times[ok])
    lin = stats.linregress(yrs, x[ok])
    assert st.lrr == pytest.approx(lin.slope, rel=1e-9)
    assert st.r2 == pytest.approx(lin.rvalue**2, rel=1e-9)
    assert st.se == pytest.approx(lin.stderr, rel=1e-9)
    assert st.ci95 == pytest.approx(stats.t.ppf(0.975, ok.sum() - 2) * lin.stderr, rel=1e-9)
    # NSM/EPR from the first and last valid values of the series
    first, last = x[ok][0], x[ok][-1]
    assert st.nsm == pytest.approx(last - first, abs=1e-9)
    assert st.epr == pytest.approx((last - first) / yrs[-1], rel=1e-9)
    assert st.sce == pytest.approx(x[ok].max() - x[ok].min())
    assert st.first.startswith(str(d.iloc[0].date())) and st.last.startswith(str(d.iloc[-1].date()))


def test_narrabeen_rates_are_the_published_trends(narrabeen):
    """Narrabeen 1987-2021 is close to stable: every transect's LRR is within ±1 m/yr, NA1 (north) accretes."""
    lrr = {t: change_statistics(to_datetime64(narrabeen["dates"]), narrabeen[t].to_numpy(float)).lrr for t in ("NA1", "NA2", "NA3", "NA4", "NA5")}
    assert all(abs(v) < 1.0 for v in lrr.values()), lrr
    assert lrr["NA1"] > 0


def test_narrabeen_tides_interpolate_and_correct(shared_file):
    wl = read_water_levels(shared_file("shoreline/coastsat_narrabeen/NARRA_tides.csv"))
    raw = pd.read_csv(shared_file("shoreline/coastsat_narrabeen/NARRA_tides.csv"))
    assert len(wl.times) == len(raw)
    # at sample times: the samples; half-way: the mean of the neighbours
    t = to_datetime64(raw["dates"].iloc[[10, 500]])
    np.testing.assert_allclose(wl.at(t), raw["tide"].iloc[[10, 500]], rtol=0, atol=1e-12)
    mid = t[0] + np.timedelta64(450, "s")
    assert wl.at([mid])[0] == pytest.approx(raw["tide"].iloc[10:12].mean(), abs=1e-12)
    # a higher water level puts the waterline landward, so the correction moves it seaward (+)
    z = wl.at(t)
    dx = tide_correction(z, 0.0, 0.1)  # Narrabeen beach-face slope (SDS benchmark sites_info)
    np.testing.assert_allclose(dx, z / 0.1)
    assert np.sign(dx[np.argmax(z)]) == np.sign(z.max())
    with pytest.raises(TideError, match="outside"):
        wl.at(["2023-06-01T00:00:00Z"])


def test_water_level_errors(tmp_path):
    gap = WaterLevels(to_datetime64(["2024-01-01T00:00Z", "2024-01-01T01:00Z", "2024-01-02T01:00Z"]), np.array([0.0, 1.0, 0.0]), name="g")
    assert gap.at(["2024-01-01T00:30Z"])[0] == pytest.approx(0.5)
    with pytest.raises(TideError, match="gap"):
        gap.at(["2024-01-01T12:00Z"])
    bad = tmp_path / "bad.csv"
    bad.write_text("when,level\nyesterday,1\n")
    with pytest.raises(TideError, match="time column"):
        read_water_levels(bad)
    with pytest.raises(TideError, match="no water-level file"):
        read_water_levels(tmp_path / "missing.csv")
    with pytest.raises(TideError, match="slope"):
        tide_correction(np.zeros(2), 0.0, 0.0)


def test_chainage_picks_the_requested_crossing():
    tr = Transect("T1", (0.0, 0.0), (1.0, 0.0), 100.0)
    lines = MultiLineString([[(20.5, -5), (20.5, 5)], [(70.25, -5), (70.25, 5)]])
    assert chainage(tr, lines, "seaward") == pytest.approx(70.25)
    assert chainage(tr, lines, "landward") == pytest.approx(20.5)
    assert chainage(tr, lines, "median") == pytest.approx(45.375)
    assert np.isnan(chainage(tr, LineString([(200, -5), (200, 5)])))


def test_statistics_need_enough_points():
    t = to_datetime64(["2020-01-01", "2021-01-01"])
    st = change_statistics(t, np.array([0.0, 5.0]))
    assert st.n == 2 and np.isnan(st.lrr) and np.isnan(st.nsm)
    st = change_statistics(t, np.array([0.0, 5.0]), min_points=2)
    assert st.nsm == 5.0 and st.epr == pytest.approx(5.0 * 365.25 / 366) and np.isnan(st.lrr)
    st = change_statistics(to_datetime64(["2020-01-01", "2021-01-01", "2022-01-01"]), np.array([0.0, np.nan, 3.0]))
    assert st.n == 2 and np.isnan(st.lrr)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"tide_series": "../../etc/passwd"}, "plain file name"),
        ({"baseline_wgs84": [[106.7, 20.6]]}, "two vertices"),
        ({"baseline_wgs84": [[706.7, 20.6], [106.8, 20.7]]}, "degrees"),
        ({"transect_spacing_m": 0}, "transect_spacing_m"),
        ({"beach_slope": -0.1}, "beach_slope"),
    ],
)
def test_bad_parameters_are_invalid_requests(params, message):
    with pytest.raises(InvalidParameters, match=message):
        get("shoreline").parse_params(params)
