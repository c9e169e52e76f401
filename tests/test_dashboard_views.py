"""Dashboard maps and tables without a browser: Web Mercator frame fitted to the data, lon/lat axes,
basemaps (offline hillshade, online OSM), masked pixels apart from no data, class names on hover,
tables formatted and translated per theme, the snow table following the product shown.

The results are small hand-built rasters (a real UTM grid and CRS, real workflow result classes),
so each test runs in well under a second.
"""

import datetime as dt
import re

import holoviews as hv
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from bokeh.models import (
    CustomJSHover,
    GlyphRenderer,
    HoverTool,
    Image,
    MercatorTickFormatter,
    TileRenderer,
)
from pyproj import Transformer

from terra_lab.dashboards._basemap import _RELIEF, OSM_URL
from terra_lab.dashboards._i18n import tr
from terra_lab.dashboards._map_view import MASKED_COLOUR
from terra_lab.dashboards.biodiversity import BiodiversityDashboard
from terra_lab.dashboards.forest import ForestDashboard
from terra_lab.dashboards.snow import SnowDashboard
from terra_lab.dashboards.water import WaterDashboard
from terra_lab.kernels._dieback import DIEBACK, HEALTHY, NOT_FOREST, TOO_FEW_DATES
from terra_lab.products.snow import L2B_CODES
from terra_lab.profiles import OSO_LEGEND
from terra_lab.workflows.biodiversity import BiodiversityResult
from terra_lab.workflows.forest import ForestResult, forest_loss_table
from terra_lab.workflows.snow import SnowResult, elevation_band_table
from terra_lab.workflows.water import WaterResult, _monthly

hv.extension("bokeh")

RES = 20.0
X0, Y0 = 757_570.0, 5_011_710.0  # pixel centres of the demo's UTM 31N grid
NY, NX = 12, 16
NODATA_COLS = 4  # the last columns were never acquired (outside the images): no data, not "0 days"
DATES = pd.date_range("2023-10-01", periods=6, freq="30D")


def _grid(values, name, **attrs):
    y = Y0 - RES * np.arange(values.shape[-2])
    x = X0 + RES * np.arange(values.shape[-1])
    dims = ("time", "y", "x") if values.ndim == 3 else ("y", "x")
    coords = {"y": y, "x": x, **({"time": DATES[: values.shape[0]]} if values.ndim == 3 else {})}
    return xr.DataArray(values, dims=dims, coords=coords, name=name, attrs=attrs).rio.write_crs(32631)


def _snow_result() -> SnowResult:
    codes = np.full((len(DATES), NY, NX), L2B_CODES["no_snow"], dtype="uint8")
    codes[1:4] = L2B_CODES["snow"]
    codes[:, :, -NODATA_COLS:] = L2B_CODES["nodata"]
    codes[:, :3, :3] = L2B_CODES["cloud"]  # always cloudy: masked
    l2b = _grid(codes, "l2b")
    clear = (codes == L2B_CODES["no_snow"]) | (codes == L2B_CODES["snow"])
    nobs = clear.sum(0).astype("uint16")
    scd = np.where(clear[1:4].all(0), 90, 0).astype("uint16")
    sod = np.where(scd > 0, 30, 0).astype("uint16")
    smod = np.where(scd > 0, 120, 0).astype("uint16")
    annual = xr.Dataset({name: _grid(v, name) for name, v in
                         (("SCD", scd), ("SOD", sod), ("SMOD", smod), ("NOBS", nobs))})
    annual["SCD"].attrs["long_name"] = "snow cover duration (days)"
    elevation = _grid(np.linspace(600, 1400, NY * NX, dtype="float32").reshape(NY, NX), "elevation")
    return SnowResult(year=2023, annual=annual, l2b=l2b, snowlines=xr.Dataset(), elevation=elevation,
                      elevation_bands=elevation_band_table(annual["SCD"], elevation))


def _forest_result() -> ForestResult:
    state = np.full((NY, NX), NOT_FOREST, dtype="uint8")
    state[2:10, 3:13] = HEALTHY
    state[4:6, 5:8] = DIEBACK
    state[8:10, 3:5] = TOO_FEW_DATES
    dates = np.full((NY, NX), np.datetime64("NaT"), dtype="datetime64[ns]")
    dates[state == DIEBACK] = np.datetime64("2024-05-10", "ns")
    dieback = xr.Dataset({"state": _grid(state, "state"), "dieback_date": _grid(dates, "dieback_date"),
                          "confidence_index": _grid(np.where(state == DIEBACK, 0.4, np.nan).astype("float32"),
                                                    "confidence_index")}).rio.write_crs(32631)
    hexagons, ha = forest_loss_table(dieback["state"], cell_km=0.1)
    return ForestResult(training_end=dt.date(2024, 1, 1), dieback=dieback, index=None, forest=None,
                        hexagons=hexagons, dieback_ha=ha, provenance={"settings": {"cell_km": 0.1}})


def _water_result() -> WaterResult:
    rng = np.random.default_rng(0)
    water = np.zeros((len(DATES), NY, NX), dtype="float32")
    water[:, 3:9, 4:12] = 1.0
    turbidity = np.where(water == 1, rng.uniform(2, 40, water.shape), np.nan).astype("float32")
    products = xr.Dataset({
        "water": _grid(water, "water", units="1"), "turbidity": _grid(turbidity, "turbidity", units="FNU"),
        "spm": _grid(1.3 * turbidity, "spm", units="g m-3"), "chla": _grid(turbidity / 3, "chla", units="mg m-3")})
    return WaterResult(products=products, monthly=_monthly(products))


def _biodiversity_result() -> BiodiversityResult:
    shannon = _grid(np.linspace(0.2, 1.6, NY * NX, dtype="float32").reshape(NY, NX), "shannon")
    classes = np.where(np.arange(NX)[None, :] < NX // 2, 16, 17).repeat(NY, 0).astype("uint8")
    landcover = _grid(classes, "landcover", **OSO_LEGEND.cf_attrs())
    return BiodiversityResult(date=pd.Timestamp("2023-06-08"), layers={"shannon": shannon}, landcover=landcover,
                              dispersal_area=None, whole_mesh=None)


def _dashboard(cls, result, **params):
    d = cls(**params)
    d.result = result
    return d


def _figure(d):
    overlay, _ = d.map_element()
    return hv.render(overlay)


def _to_mercator(x, y):
    return Transformer.from_crs(32631, 3857, always_xy=True).transform(x, y)


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setenv("TERRA_LAB_OFFLINE", "1")


def _data_mapper(fig):
    """The colour mapper of the data image (the one drawn with a colour bar)."""
    from bokeh.models import ColorBar

    return next(iter(fig.select(ColorBar))).color_mapper


# ------------------------------------------------------------------------------------------ the map
def test_snow_map_is_web_mercator_with_lonlat_axes_fitted_to_the_observed_data(offline):
    fig = _figure(_dashboard(SnowDashboard, _snow_result()))
    assert isinstance(fig.xaxis[0].formatter, MercatorTickFormatter) and fig.xaxis[0].formatter.dimension == "lon"
    assert isinstance(fig.yaxis[0].formatter, MercatorTickFormatter) and fig.yaxis[0].formatter.dimension == "lat"
    assert (fig.xaxis[0].axis_label, fig.yaxis[0].axis_label) == ("Longitude", "Latitude")
    # the frame is the observed pixels' extent (the unobserved columns are left out: no edge strip)
    left, top = _to_mercator(X0 - RES / 2, Y0 + RES / 2)
    right, bottom = _to_mercator(X0 + RES * (NX - NODATA_COLS) - RES / 2, Y0 - RES * NY + RES / 2)
    tol = 2 * RES * 1.5  # one Web Mercator pixel (~1.4 UTM pixels at 45°N) on each side
    assert fig.x_range.start == pytest.approx(left, abs=tol) and fig.x_range.end == pytest.approx(right, abs=tol)
    assert fig.y_range.start == pytest.approx(bottom, abs=tol) and fig.y_range.end == pytest.approx(top, abs=tol)
    # the frame has the data's shape
    aspect = (fig.x_range.end - fig.x_range.start) / (fig.y_range.end - fig.y_range.start)
    assert fig.frame_width / fig.frame_height == pytest.approx(aspect, rel=0.02)
    # offline: the basemap is the DEM's shaded relief (an image without colour bar), no tile source
    assert not list(fig.select(TileRenderer))
    assert len([r for r in fig.select(GlyphRenderer) if isinstance(r.glyph, Image)]) >= 3  # relief, data, masked


def test_snow_layer_has_no_zero_strip_where_nothing_was_observed():
    d = _dashboard(SnowDashboard, _snow_result())
    layer = d._layer(d.result)
    assert np.isnan(layer.values[:, -NODATA_COLS:]).all()  # no data, not "0 days"
    assert np.isnan(layer.values[:3, :3]).all() and bool(d._masked(d.result)[:3, :3].all())  # masked, not 0
    assert float(layer.values[5, 5]) == 90.0


def test_online_basemap_is_openstreetmap(monkeypatch):
    monkeypatch.delenv("TERRA_LAB_OFFLINE", raising=False)
    fig = _figure(_dashboard(SnowDashboard, _snow_result()))
    (tiles,) = fig.select(TileRenderer)
    assert tiles.tile_source.url == OSM_URL and "OpenStreetMap" in tiles.tile_source.attribution


def test_masked_pixels_are_grey_apart_from_no_data_and_the_background(offline):
    for cls, result in ((SnowDashboard, _snow_result()), (ForestDashboard, _forest_result())):
        d = _dashboard(cls, result)
        fig = _figure(d)
        palettes = [r.glyph.color_mapper.palette for r in fig.select(GlyphRenderer) if isinstance(r.glyph, Image)]
        assert [MASKED_COLOUR] in [list(p) for p in palettes], f"{cls.__name__}: no masked layer"
        assert MASKED_COLOUR.lower() not in {str(fig.background_fill_color).lower(), "#ffffff", "white"}
        assert MASKED_COLOUR.lower() not in {c.lower() for c in _RELIEF}
        assert _data_mapper(fig).nan_color in ("transparent", "rgba(0, 0, 0, 0)")  # no data shows the basemap
        labels = [item.label["value"] for legend in fig.legend for item in legend.items]
        assert labels == [tr("masked", "fr")]


def test_frame_fits_the_forest_not_the_search_area(offline):
    d = _dashboard(ForestDashboard, _forest_result())
    fig = _figure(d)
    left, top = _to_mercator(X0 + 3 * RES - RES / 2, Y0 - 2 * RES + RES / 2)
    right, bottom = _to_mercator(X0 + 12 * RES + RES / 2, Y0 - 9 * RES - RES / 2)
    tol = 2 * RES * 1.5
    assert fig.x_range.start == pytest.approx(left, abs=tol) and fig.x_range.end == pytest.approx(right, abs=tol)
    assert fig.y_range.start == pytest.approx(bottom, abs=tol) and fig.y_range.end == pytest.approx(top, abs=tol)


def _hover_code(fig) -> str:
    (tool,) = [t for t in fig.select(HoverTool) if t.formatters]
    formatter = tool.formatters["@image"]
    assert isinstance(formatter, CustomJSHover)
    return formatter.code


@pytest.mark.parametrize("lang, names, absent", [("fr", ["sain", "dépérissant"], ["healthy", "dieback"]),
                                                  ("en", ["healthy", "dieback"], ["sain", "dépérissant"])])
def test_hover_names_the_forest_states_in_the_page_language(offline, lang, names, absent):
    fig = _figure(_dashboard(ForestDashboard, _forest_result(), language=lang, product="state"))
    code = _hover_code(fig)
    assert all(n in code for n in names) and not any(f'"{n}"' in code for n in absent)
    (tool,) = [t for t in fig.select(HoverTool) if t.formatters]
    assert [k for k, _ in tool.tooltips] == [tr("lon", lang), tr("lat", lang), tr("class", lang)]
    # the colour bar names the states too, without the masked and outside-the-forest codes
    labels = list(_colourbar(fig).major_label_overrides.values())
    assert labels[:2] == names and tr("state_masked", lang) not in labels


def _colourbar(fig):
    from bokeh.models import ColorBar

    return next(iter(fig.select(ColorBar)))


def test_hover_names_the_land_cover_classes(offline):
    d = _dashboard(BiodiversityDashboard, _biodiversity_result(), product="landcover")
    code = _hover_code(_figure(d))
    fr = OSO_LEGEND.names("fr")
    assert fr[16] in code and fr[17] in code


def test_hover_gives_values_with_units_and_titles_are_short(offline):
    d = _dashboard(WaterDashboard, _water_result(), product="turbidity", language="en")
    fig = _figure(d)
    assert "FNU" in _hover_code(fig) and _colourbar(fig).title == "FNU"
    assert fig.title.text == "Turbidity (FNU)"
    d.product = "spm"
    assert _colourbar(_figure(d)).title == "g/m³"
    d = _dashboard(BiodiversityDashboard, _biodiversity_result(), product="shannon", language="fr")
    fig = _figure(d)
    assert fig.title.text == "Diversité de Shannon" and _colourbar(fig).title == ""  # unitless: no "(1)"
    d = _dashboard(SnowDashboard, _snow_result(), product="SCD", language="fr")
    fig = _figure(d)
    assert fig.title.text == "Durée d'enneigement (SCD), jours" and _colourbar(fig).title == "jours"


def test_day_counts_show_as_dates(offline):
    d = _dashboard(SnowDashboard, _snow_result(), product="SOD")
    fig = _figure(d)
    assert "toISOString" in _hover_code(fig) and "toISOString" in _colourbar(fig).formatter.code


# ------------------------------------------------------------------------------------------- tables
def _table(d) -> pd.DataFrame:
    stats = d._statistics(d.result)
    panes = getattr(stats, "objects", [stats])
    return next(p.object for p in panes if isinstance(p.object, pd.DataFrame))


def _check_cells(frame: pd.DataFrame):
    text = frame.to_string()
    assert "00:00:00" not in text and "nan" not in text.lower()
    assert not {"q", "r"} & set(frame.columns)
    for col in frame.columns:
        for cell in frame[col]:
            digits = re.findall(r"[.,](\d+)", str(cell).replace("°", ""))
            assert all(len(d) <= 4 for d in digits), f"{col}: {cell!r} has too many decimals"


THEMES = [(SnowDashboard, _snow_result, {}), (ForestDashboard, _forest_result, {}),
          (WaterDashboard, _water_result, {"product": "turbidity"}), (BiodiversityDashboard, _biodiversity_result, {})]


@pytest.mark.parametrize("cls, make, params", THEMES, ids=lambda v: getattr(v, "__name__", ""))
def test_tables_are_formatted_and_translated(cls, make, params):
    result = make()
    fr = _table(_dashboard(cls, result, language="fr", **params))
    en = _table(_dashboard(cls, result, language="en", **params))
    _check_cells(fr)
    _check_cells(en)
    # no English header under French (the same word in both languages aside)
    same = {"Pixels"}
    assert not (set(fr.columns) & set(en.columns)) - same, (list(fr.columns), list(en.columns))
    assert len(fr) == len(en) > 0


def test_snow_table_bands_and_units():
    d = _dashboard(SnowDashboard, _snow_result(), language="fr")
    frame = _table(d)
    assert list(frame.columns) == ["Tranche d'altitude", "Moyenne (jours)", "Médiane (jours)", "Pixels"]
    assert all(re.fullmatch(r"\d+–\d+ m", band) for band in frame["Tranche d'altitude"])
    assert frame["Tranche d'altitude"].iloc[0] == "600–800 m"
    assert all(re.fullmatch(r"\d+(,\d)?", v) for v in frame["Moyenne (jours)"])


@pytest.mark.parametrize("product, pattern, header", [("SOD", r"\d{4}-\d{2}-\d{2}|–", "Moyenne"),
                                                      ("SMOD", r"\d{4}-\d{2}-\d{2}|–", "Moyenne"),
                                                      ("NOBS", r"\d+", "Moyenne (dates)")])
def test_snow_table_follows_the_product_shown(product, pattern, header):
    d = _dashboard(SnowDashboard, _snow_result(), language="fr")
    scd = _table(d)
    d.product = product
    frame = _table(d)
    assert header in frame.columns
    assert all(re.fullmatch(pattern, v) for v in frame[header])
    assert not frame.equals(scd)


def test_forest_table_shares_as_percent_and_places_not_hexagon_ids():
    frame = _table(_dashboard(ForestDashboard, _forest_result(), language="fr"))
    assert "Centre (lon., lat.)" in frame.columns
    assert all(v.endswith(" %") for v in frame["Part de la forêt"])
    assert all(re.fullmatch(r"6\.\d{4}°, 45\.\d{4}°", v) for v in frame["Centre (lon., lat.)"])


def test_water_and_biodiversity_tables_dates_without_time():
    frame = _table(_dashboard(WaterDashboard, _water_result(), language="en"))
    assert all(re.fullmatch(r"\d{4}-\d{2}", m) for m in frame["Month"])
    assert frame.columns[1] == "Turbidity, median (FNU)"
    frame = _table(_dashboard(BiodiversityDashboard, _biodiversity_result(), language="en"))
    assert frame.iloc[0].tolist() == ["Image date", "2023-06-08"]


def test_a_layer_with_dates_opens_on_its_clearest_date():
    from terra_lab.dashboards._map_view import clearest_time

    values = np.full((3, 4, 5), np.nan, dtype="float32")
    values[0, 0, 0] = 1.0       # almost fully masked
    values[1] = 2.0             # clear
    values[2, :2] = 3.0         # half masked
    picked = clearest_time(_grid(values, "ndvi"))
    assert picked["time"].values == DATES[1] and picked.dims == ("y", "x")


def test_frame_takes_the_data_shape_within_the_largest_frame():
    from terra_lab.dashboards._map_view import MAX_FRAME, frame_size

    assert frame_size(2000, 1000) == (MAX_FRAME[0], MAX_FRAME[0] // 2)
    assert frame_size(1000, 2000) == (MAX_FRAME[1] // 2, MAX_FRAME[1])
