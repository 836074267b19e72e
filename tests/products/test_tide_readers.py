"""Sea-level files as gauges publish them (issue 14): UHSLC research-quality hourly/daily CSV (no header, mm,
−32767 missing), the IOC monitoring-facility export, plain CSV with ISO times; stages relative to the series'
mean sea level, never to an unstated gauge zero. Expected values are computed here with numpy."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from products.tide import TideError, read_water_levels, tide_stage

T0 = dt.datetime(2025, 8, 1, tzinfo=dt.timezone.utc)
HOURS = 60 * 24  # 60 days, hourly
GAPS = {100, 101, 500, 777, 778, 779, 780, 781}  # missing hours (−32767); 777–781 is a 5-hour gap


def _level_mm(h: np.ndarray) -> np.ndarray:
    """Gauge-zero levels of a Hòn Dáu-like diurnal tide: 1,900 mm mean, 850 mm K1, 300 mm M2 (whole mm)."""
    return np.rint(1900 + 850 * np.cos(2 * np.pi * h / 23.93) + 300 * np.cos(2 * np.pi * h / 12.42 + 1.0))


def _uhslc_hourly(path):
    h = np.arange(HOURS)
    mm = _level_mm(h)
    lines = []
    for k in h:
        t = T0 + dt.timedelta(hours=int(k))
        v = -32767 if k in GAPS else int(mm[k])
        lines.append(f"{t.year},{t.month:2d},{t.day:2d},{t.hour:2d},{v:6d}")
    path.write_text("\n".join(lines) + "\n")
    return h, mm


def test_uhslc_hourly_with_gaps_gives_the_stage_above_msl(tmp_path):
    h, mm = _uhslc_hourly(tmp_path / "h140.csv")
    w = read_water_levels(tmp_path / "h140.csv")
    assert (w.source_format, w.units, w.units_from, w.missing) == ("uhslc-hourly", "mm", "format", len(GAPS))
    valid = np.array([k not in GAPS for k in h])
    msl_m = mm[valid].mean() / 1000.0  # the series' mean sea level, in metres above the gauge zero
    assert w.mean_level == pytest.approx(msl_m, abs=1e-9)
    # an image at 03:36 on day 10: linear between the 03:00 and 04:00 values, relative to that mean
    t_img = T0 + dt.timedelta(days=10, hours=3, minutes=36)
    k = 10 * 24 + 3
    expect = ((mm[k] + 0.6 * (mm[k + 1] - mm[k])) / 1000.0) - msl_m
    z, info = tide_stage(w, [t_img])
    assert z[0] == pytest.approx(expect, abs=1e-9)
    assert info["reference"] == "msl" and info["msl_above_datum_m"] == pytest.approx(round(msl_m, 4))
    assert "warning" not in info  # 60 days: longer than a lunar month
    # the gauge-zero reading would be ~1.9 m off: the old default (reference 0 on the file's values)
    assert abs(tide_stage(w, [t_img], "datum")[0][0] - expect - msl_m) < 1e-9
    # across the 2-hour gap (hours 100–101 missing): interpolated; across the 5-hour one: refused
    z2, _ = tide_stage(w, [T0 + dt.timedelta(hours=100, minutes=30)])
    assert z2[0] == pytest.approx((mm[99] + (mm[102] - mm[99]) * 1.5 / 3) / 1000.0 - msl_m, abs=1e-9)
    with pytest.raises(TideError, match="gap longer than 3 h"):
        tide_stage(w, [T0 + dt.timedelta(hours=779)])


def test_uhslc_daily_and_a_short_series_warns(tmp_path):
    days = np.arange(20)
    mm = 2000 + 10 * days
    (tmp_path / "d140.csv").write_text("".join(f"2025,8,{d + 1},{v}\n" for d, v in zip(days, mm)))
    w = read_water_levels(tmp_path / "d140.csv")
    assert w.source_format == "uhslc-daily" and w.mean_level == pytest.approx(mm.mean() / 1000)
    z, info = tide_stage(w, [dt.datetime(2025, 8, 5, 12, tzinfo=dt.timezone.utc)])
    assert z[0] == pytest.approx(mm[4] / 1000 - mm.mean() / 1000)
    assert "lunar month" in info["warning"]


def test_a_header_added_mm_file_is_not_read_as_metres(tmp_path):
    """The issue's case: the UHSLC values with a header: mm read as metres and −32767 as a level, before."""
    h, mm = _uhslc_hourly(tmp_path / "raw.csv")
    rows = ["time,sea_level"] + [f"{(T0 + dt.timedelta(hours=int(k))).isoformat()},{-32767 if k in GAPS else int(mm[k])}" for k in h]
    (tmp_path / "hdr.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(TideError, match="declare the units"):
        read_water_levels(tmp_path / "hdr.csv")
    w = read_water_levels(tmp_path / "hdr.csv", units="mm")
    assert w.missing == len(GAPS) and w.units_from == "declared"
    assert w.mean_level == pytest.approx(mm[[k not in GAPS for k in h]].mean() / 1000, abs=1e-9)
    # the unit in the column name is enough
    (tmp_path / "named.csv").write_text("\n".join(["time,sea_level_mm"] + rows[1:]) + "\n")
    assert read_water_levels(tmp_path / "named.csv").units_from == "column name"


def test_ioc_export_and_plain_csv(tmp_path):
    ioc = ["Time (UTC)\tprs(m)\trad(m)"]
    for k in range(48):
        t = (T0 + dt.timedelta(minutes=30 * k)).strftime("%Y-%m-%d %H:%M:%S")
        ioc.append(f"{t}\t{2.0 + 0.5 * np.sin(k / 5):.3f}\t{2.1 + 0.5 * np.sin(k / 5):.3f}")
    (tmp_path / "hond.txt").write_text("\n".join(ioc) + "\n")
    w = read_water_levels(tmp_path / "hond.txt")
    assert (w.source_format, w.units, w.units_from, len(w.levels)) == ("ioc", "m", "column name", 48)
    assert w.levels[5] == pytest.approx(round(2.0 + 0.5 * np.sin(1.0), 3))
    r = read_water_levels(tmp_path / "hond.txt", level_column="rad(m)")
    assert r.levels[0] == pytest.approx(2.1)
    # CoastSat's dates,tide stays as it was (metres, naive times = UTC)
    (tmp_path / "cs.csv").write_text("# comment\ndates,tide\n2025-08-01 00:00:00,0.5\n2025-08-01 01:00:00,-0.5\n")
    cs = read_water_levels(tmp_path / "cs.csv")
    assert cs.source_format == "csv" and list(cs.levels) == [0.5, -0.5] and cs.mean_level == 0.0
    # a declared sentinel
    (tmp_path / "s.csv").write_text("time,level_cm\n2025-08-01T00:00Z,120\n2025-08-01T01:00Z,-1\n2025-08-01T02:00Z,140\n")
    s = read_water_levels(tmp_path / "s.csv", missing=-1)
    assert list(s.levels) == pytest.approx([1.2, 1.4]) and s.missing == 1
    (tmp_path / "bad.csv").write_text("1,2,3\n")
    with pytest.raises(TideError, match="UHSLC"):
        read_water_levels(tmp_path / "bad.csv")
