"""The evapotranspiration workflow (issue 17) on the demo: Landsat C2 L2 + the station collection -> daily and
ten-day ET, stress index, TSEB fluxes; checked against the demo's ET truth (validation); its errors and notes;
nothing read before its compute step."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import rioxarray
import xarray as xr

from terra_lab.catalog import LocalCatalog
from terra_lab.catalog._station_items import station_item
from terra_lab.cube import load_station
from terra_lab.demo._landsat import ET_DAYS
from terra_lab.errors import DateRangeError, NoItemsFoundError, UnknownCollectionError
from terra_lab.products import evapotranspiration as et
from terra_lab.workflows import Cancelled, ETResult, ETSettings, et_workflow

LAKE = (6.272, 45.183, 6.294, 45.195)  # the water dashboard's default area
SMALL = (6.285, 45.188, 6.292, 45.193)
START, END = "2024-06-01", "2024-08-31"
STATIONS = "terra-lab-demo-meteo-stations"


@pytest.fixture(scope="module")
def result(demo_root) -> ETResult:
    return et_workflow("demo", LAKE, START, END)


def _truth(demo_root, like: xr.DataArray) -> xr.DataArray:
    """The demo's ET-fraction truth (one band per overpass) on ``like``'s pixels."""
    truth = rioxarray.open_rasterio(demo_root / "truth" / "et_fraction_landsat_R30.tif")
    truth = truth.rename(band="time").assign_coords(time=pd.DatetimeIndex(ET_DAYS))
    return truth.reindex(x=like.x.values, y=like.y.values, method="nearest", tolerance=1.0)  # NaN off the tile


def test_validation_et_against_the_demo_truth(result, demo_root, demo_catalog):
    """The ET fraction and the daily ET against the demo's truth (truth fraction x the station's ET0)."""
    frac = result.fraction
    truth = _truth(demo_root, frac).sel(time=pd.DatetimeIndex(frac.time.values).normalize())
    ok = np.isfinite(frac.values) & np.isfinite(truth.values)
    rmse_f = float(np.sqrt(np.mean((frac.values[ok] - truth.values[ok]) ** 2)))
    daily = load_station(demo_catalog.search(collections=STATIONS).items)
    et0 = xr.DataArray(et.reference_et_daily(daily.tmax_c.values, daily.tmin_c.values, daily.rs_mj_m2_day.values,
                                             daily.ea_kpa.values, daily.u2_m_s.values, elevation=700.0,
                                             latitude=daily.attrs["latitude"], doy=daily.index.dayofyear.values),
                       dims="time", coords={"time": daily.index.values})
    truth_daily = et.daily_et(truth.assign_coords(time=frac.time.values), et0)
    shown = pd.Timestamp(result.et_daily.time.values)
    diff = (result.et_daily - truth_daily.sel(time=shown)).values
    rmse_d = float(np.sqrt(np.nanmean(diff**2)))
    truth_dekad = et.dekad_sums(truth_daily).mean(("y", "x")).values
    bias_dekad = float(np.mean(result.dekads["et"].values - truth_dekad))
    print(f"ET workflow on the demo lake: ET fraction RMSE {rmse_f:.3f}, daily ET RMSE {rmse_d:.3f} mm/day "
          f"({shown.date()}), mean dekad bias {bias_dekad:+.2f} mm")
    assert ok.mean() > 0.8
    assert rmse_f < 0.06 and rmse_d < 0.35 and abs(bias_dekad) < 3.0


def test_result_maps_and_tables(result):
    assert result.station["id"] == "terra-lab-demo-station" and 0 < result.station["distance_km"] < 5
    assert result.provenance["thermal_collection"] == "landsat-c2-l2" and result.notes == ()
    d = result.dates
    assert list(d.columns) == ["et", "et0", "stress", "clear"] and len(d) == 6
    # the table is the maps' mean: the clearest date's row is the mean of the daily map
    shown = pd.Timestamp(result.et_daily.time.values)
    assert shown == d["clear"].idxmax()
    assert d.loc[shown, "et"] == pytest.approx(float(result.et_daily.mean()), rel=1e-5)
    assert ((d["et"] > 0) & (d["et"] <= d["et0"] * 1.06)).all() and d["stress"].between(0, 1).all()
    assert result.et_dekad.sizes["time"] == 9 and result.et_dekad.attrs["units"] == "mm dekad-1"
    assert result.et_dekad["n_days"].values.tolist() == [10, 10, 10, 10, 10, 11, 10, 10, 11]
    s = result.stress.values[np.isfinite(result.stress.values)]
    assert s.size and s.min() >= 0 and s.max() <= 1
    np.testing.assert_allclose(result.dekads["et"].values, result.et_dekad.mean(("y", "x")).values, rtol=1e-5)
    assert result.et_daily.dims == ("y", "x") and result.et_daily.rio.crs is not None


def test_tseb_fluxes_of_the_clearest_overpass_close_the_energy_balance(result):
    f = result.fluxes
    assert set(f.data_vars) == {"rn", "h", "le", "g"} and f["le"].attrs["units"] == "W m-2"
    ok = np.isfinite(f["le"].values)
    assert ok.mean() > 0.8
    closure = (f["rn"] - f["h"] - f["le"] - f["g"]).values[ok]
    assert np.abs(closure).max() < 1.0  # TSEB solves Rn = H + LE + G
    assert 300 < float(f["rn"].mean()) < 800


def test_clouds_lower_the_clear_share_and_too_cloudy_dates_are_left_out(demo_root):
    """The demo's cloud of 2024-06-21 over the tile's north-west: its clear share falls, and with a stricter
    min_clear the date is left out, a note says so."""
    north_west = (6.274, 45.205, 6.290, 45.217)
    r = et_workflow("demo", north_west, "2024-06-10", "2024-07-10", ETSettings(min_clear=0.75, fluxes=False))
    assert "2024-06-21" not in r.provenance["dates_used"]
    assert [n.key for n in r.notes] == ["et_cloudy_dates"] and "2024-06-21" in r.notes[0]
    assert r.dates.index.min() >= pd.Timestamp("2024-06-10")


def test_errors_name_what_is_missing(demo_root, demo_catalog, tmp_path):
    with pytest.raises(NoItemsFoundError, match=r"within 0\.5 km.*'terra-lab-demo-station', is \d\.\d km away"):
        et_workflow("demo", LAKE, START, END, ETSettings(max_station_km=0.5))
    with pytest.raises(NoItemsFoundError, match=r"no 'landsat-c2-l2' \(Landsat C2 L2\) item"):
        et_workflow("demo", LAKE, "2023-01-01", "2023-02-01")
    with pytest.raises(DateRangeError, match="empty or reversed"):
        et_workflow("demo", LAKE, END, START)
    with pytest.raises(NoItemsFoundError, match=r"every Landsat overpass .* is cloudy"):
        et_workflow("demo", SMALL, "2024-06-01", "2024-06-30", ETSettings(min_clear=1.01, fluxes=False))
    bare = LocalCatalog(tmp_path / "bare", name="bare")
    bare.add_items(demo_catalog.search(collections="landsat-c2-l2").items, collection="landsat-c2-l2")
    with pytest.raises(UnknownCollectionError, match=r"no weather-station collection.*station_collection="):
        et_workflow(bare, LAKE, START, END)


def test_nothing_is_read_before_the_compute_step(demo_root, no_compute):
    steps = []

    def progress(step):
        steps.append(step)
        if step == "compute":
            raise Cancelled("stop")

    with no_compute(), pytest.raises(Cancelled):
        et_workflow("demo", LAKE, START, END, progress=progress)
    assert steps == ["search", "read", "compute"]


def test_station_gaps_are_filled_or_named(demo_root, demo_catalog, tmp_path):
    """A station export with missing days and no clear-sky net radiation column (FAO-56's is computed): two
    missing days are interpolated (a note), a longer gap stops with the days named."""
    daily = load_station(demo_catalog.search(collections=STATIONS).items).drop(columns=["rn_clear_w_m2"])
    table = daily.reset_index().rename(columns={"time": "date"})
    table["date"] = table["date"].dt.strftime("%Y-%m-%d")
    cols = [{"name": "date", "type": "date"}, *({"name": c, "unit": daily.attrs["units"][c]} for c in daily.columns)]

    def catalog(drop: list[str], name: str) -> LocalCatalog:
        path = tmp_path / f"{name}.csv"
        table[~table["date"].isin(drop)].to_csv(path, index=False, sep=";", decimal=",")
        cat = LocalCatalog(tmp_path / name, name=name)
        cat.add_items(demo_catalog.search(collections="landsat-c2-l2").items, collection="landsat-c2-l2")
        item = station_item("gappy", daily.attrs["longitude"], daily.attrs["latitude"],
                            tables={"daily": {"path": path, "columns": cols}},
                            period=(dt.date(2024, 6, 1), dt.date(2024, 8, 31)), elevation_m=700.0)
        cat.add_items([item], collection=STATIONS)
        return cat

    r = et_workflow(catalog(["2024-06-15", "2024-06-16"], "two"), SMALL, "2024-06-10", "2024-06-25",
                    ETSettings(fluxes=False))
    assert [n.key for n in r.notes] == ["et_station_gaps"] and r.provenance["station_days_filled"] == ["2024-06-15",
                                                                                                    "2024-06-16"]
    assert r.provenance["clear_sky_net_radiation"].startswith("FAO-56")
    assert 0.7 < float(r.fraction.mean()) < 1.0 and r.dates["stress"].between(0, 0.3).all()
    week = [f"2024-06-{d}" for d in range(14, 20)]
    with pytest.raises(NoItemsFoundError, match=r"station 'gappy' misses 6 day\(s\).*first 2024-06-14"):
        et_workflow(catalog(week, "week"), SMALL, "2024-06-10", "2024-06-25", ETSettings(fluxes=False))
