"""Land-cover maps the iota2 / OSO way: random forest on gap-filled Sentinel-2 time series.

The THEIA OSO land-cover map of France is produced by the iota2 chain [1]_ [2]_: each pixel's
masked reflectance series is resampled onto a regular date grid by linear interpolation
(gap filling), NDVI, NDWI and brightness are computed at every grid date, and a random
forest trained on reference polygons classifies every pixel; the map comes with a confidence
(the winning class's share of the votes).  Reference polygons are split into training and
validation sets *by polygon*, so that neighbouring, correlated pixels never sit on both
sides, and the map is assessed with the overall accuracy, Cohen's kappa, per-class F1 and
the confusion matrix [3]_.

Pipeline (each step a function)::

    feats = gapfilled_features(cube)                     # lazy (feature, y, x)
    train, valid = split_polygons(polygons)              # grouped by polygon
    clf = train_landcover(feats, train)                  # eager on the sampled pixels
    lc = classify(feats, clf)                            # lazy landcover + confidence
    report = validate(lc["landcover"], valid)            # OA, kappa, F1, confusion

Classes are OSO codes (:data:`OSO_NOMENCLATURE`, the 23-class nomenclature used since 2018;
:data:`OSO_NOMENCLATURE_2016` the 17-class one of 2016-2017).  :data:`DEMO_TO_OSO` maps the
demo scene's classes onto them.

References
----------
.. [1] Inglada, J., Vincent, A., Arias, M., Tardy, B., Morin, D., Rodes, I. (2017). Operational
   high resolution land cover map production at the country scale using satellite image time
   series. Remote Sensing 9(1), 95. https://doi.org/10.3390/rs9010095
.. [2] iota2 documentation (CESBIO): https://docs.iota2.net ; OSO products:
   https://www.theia-land.fr/en/ceslist/land-cover-sec/
.. [3] Congalton, R. G. (1991). A review of assessing the accuracy of classifications of
   remotely sensed data. Remote Sens. Environ. 37, 35-46.
.. [4] Breiman, L. (2001). Random forests. Machine Learning 45, 5-32.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import AOIError, MissingBandError, SamplingError, TerraLabWarning
from ..kernels._gapfill import gapfill_linear
from ..profiles import OSO_NOMENCLATURE, OSO_NOMENCLATURE_2016
from ._common import rechunk, require, valid_rows, with_provenance

__all__ = [
    "OSO_NOMENCLATURE",
    "OSO_NOMENCLATURE_2016",
    "AccuracyReport",
    "LandcoverClassifier",
    "accuracy_report",
    "classify",
    "gapfilled_features",
    "reference_polygons",
    "sample_polygons",
    "split_polygons",
    "train_landcover",
    "validate",
]

#: Mask layers that invalidate an observation before gap filling (iota2 uses the MAJA cloud,
#: shadow, saturation and edge masks; snow is kept as an observation).
DEFAULT_MASKS = ("cloud", "shadow", "edge", "saturated")
DEFAULT_BANDS = ("blue", "green", "red", "rededge1", "rededge2", "rededge3", "nir", "nir08", "swir16", "swir22")
_REF = "Inglada et al. 2017, Remote Sensing 9(1):95 (iota2 / OSO)"


# ----------------------------------------------------------------------------- features
def gapfilled_features(cube: xr.Dataset, *, bands: Sequence[str] | None = None, step_days: int = 10,
                       start=None, end=None, masks: Sequence[str] = DEFAULT_MASKS,
                       indices: Sequence[str] = ("NDVI", "NDWI", "brightness")) -> xr.DataArray:
    """iota2 features: gap-filled reflectances and NDVI, NDWI, brightness at regular dates (lazy).

    Observations flagged by ``masks`` (or NaN) are removed; each pixel's series of each band
    is then linearly interpolated in time onto dates every ``step_days`` from ``start`` to
    ``end`` (numba kernel :func:`terra_lab.kernels._gapfill.gapfill_linear`, holding the
    first/last valid value at the ends), as iota2 does [1]_.  Indices are computed on the
    gap-filled reflectances: NDVI = (nir - red) / (nir + red), NDWI = (nir - swir16) / (nir +
    swir16) (Gao 1996, iota2's definition) and brightness = sqrt(sum of squared reflectances).

    Parameters
    ----------
    cube
        Reflectance cube from :func:`terra_lab.load` with its mask layers (one year, e.g.).
    bands
        Reflectance bands to use (default: those of the 10 S2 20 m/10 m bands the cube has).
    step_days
        Spacing of the gap-filling date grid (iota2 default: 10 days).
    start, end
        First and last grid date (default: the cube's first and last date).
    masks
        Mask layers that invalidate an observation (those missing from the cube are ignored).
    indices
        Any of ``"NDVI"``, ``"NDWI"``, ``"brightness"``.

    Returns
    -------
    xarray.DataArray
        float32 (feature, y, x); the ``feature`` coordinate holds names ``"<band>@YYYYMMDD"``
        with companion coordinates ``band`` and ``date``.  The time axis is put in one chunk.

    References
    ----------
    .. [1] Inglada et al. (2017), Remote Sensing 9(1), 95.
    """
    if bands is None:
        bands = [b for b in DEFAULT_BANDS if b in cube.data_vars]
        if not bands:
            raise MissingBandError(
                f"gapfilled_features found none of the reflectance bands {list(DEFAULT_BANDS)} in the cube "
                f"(it has {sorted(map(str, cube.data_vars))}); load some, e.g. "
                "terra_lab.load(items, bands=['blue', 'green', 'red', 'nir', 'swir16'])"
            )
    bands = list(bands)
    require(cube, bands, "gapfilled_features")
    need = {"NDVI": ["red", "nir"], "NDWI": ["nir", "swir16"], "brightness": []}
    for ix in indices:
        if ix not in need:
            raise ValueError(f"unknown index {ix!r}; choose from {sorted(need)}")
        missing = [b for b in need[ix] if b not in bands]
        if missing:
            raise MissingBandError(f"index {ix} needs bands {need[ix]} among bands= ({bands}); add {missing}")
    if step_days <= 0:
        raise ValueError(f"step_days={step_days!r} must be a positive number of days")
    times = pd.DatetimeIndex(cube["time"].values)
    t0 = pd.Timestamp(start) if start is not None else times.min().normalize()
    t1 = pd.Timestamp(end) if end is not None else times.max()
    if t1 < t0:
        raise ValueError(f"end ({t1.date()}) is before start ({t0.date()})")
    grid_dates = pd.date_range(t0, t1, freq=f"{int(step_days)}D")
    ref = np.datetime64("1970-01-01")
    days = xr.DataArray(((times.values - ref) / np.timedelta64(1, "D")).astype(np.float64), dims="time")
    grid = xr.DataArray(((grid_dates.values - ref) / np.timedelta64(1, "D")).astype(np.float64), dims="date",
                        coords={"date": grid_dates.values})

    bad = None
    for layer in masks:
        if layer in cube:
            bad = cube[layer] if bad is None else bad | cube[layer]
    refl = cube[bands].to_array("band").astype(np.float32)
    if bad is not None:
        refl = refl.where(~bad)
    refl = refl.transpose("band", "time", "y", "x")
    if refl.chunks is not None:
        refl = rechunk(refl, band=1, time=-1)
    filled = xr.apply_ufunc(
        gapfill_linear, refl, days, grid,
        input_core_dims=[["time"], ["time"], ["date"]], output_core_dims=[["date"]],
        dask="parallelized", output_dtypes=[np.float32], keep_attrs=False,
    )
    extra = []
    b = {name: filled.sel(band=name) for name in bands}
    if "NDVI" in indices:
        extra.append(((b["nir"] - b["red"]) / (b["nir"] + b["red"])).expand_dims(band=["NDVI"]))
    if "NDWI" in indices:
        extra.append(((b["nir"] - b["swir16"]) / (b["nir"] + b["swir16"])).expand_dims(band=["NDWI"]))
    if "brightness" in indices:
        extra.append(np.sqrt((filled**2).sum("band", skipna=False)).expand_dims(band=["brightness"]))
    allf = xr.concat([filled, *extra], dim="band").astype(np.float32)
    allf = allf.transpose("band", "date", "y", "x")
    nb, nd = allf.sizes["band"], allf.sizes["date"]
    names = [f"{bn}@{pd.Timestamp(d):%Y%m%d}" for bn in allf["band"].values for d in allf["date"].values]
    data = allf.data.reshape((nb * nd, *allf.data.shape[2:]))
    if hasattr(data, "rechunk"):
        data = data.rechunk({0: -1})
    coords = {k: v for k, v in cube.coords.items() if set(v.dims) <= {"y", "x"}}
    coords.update(feature=names, band=("feature", np.repeat(allf["band"].values, nd)),
                  date=("feature", np.tile(allf["date"].values, nb)))
    out = xr.DataArray(data, dims=("feature", "y", "x"), coords=coords, name="features")
    out.attrs.update(long_name="gap-filled reflectances and indices (iota2 features)")
    return with_provenance(out, algorithm="iota2 gap-filled features", source=cube, reference=_REF,
                           params={"bands": bands, "step_days": step_days, "start": str(t0.date()),
                                   "end": str(t1.date()), "masks": list(masks), "indices": list(indices)})


# ----------------------------------------------------------------------------- reference polygons
def reference_polygons(labels: xr.DataArray, *, size: int = 5, mapping: Mapping[int, int] | None = None,
                       nodata: int | None = 0, max_per_class: int | None = None, label: str = "code",
                       random_state: int = 0):
    """Reference polygons from a label raster: the pure ``size`` x ``size``-pixel squares.

    The raster is cut into square blocks of ``size`` pixels; each block whose pixels all have
    the same class becomes a polygon of that class (mixed blocks, at class borders, are left
    out, as photo-interpreters draw reference polygons inside homogeneous areas).  A helper to
    make training/validation polygons for the demo from its truth raster.

    Parameters
    ----------
    labels
        2-D (y, x) integer DataArray with a CRS (e.g. ``rioxarray.open_rasterio(path).squeeze()``).
    size
        Square side in pixels.
    mapping
        Recode classes (e.g. :data:`DEMO_TO_OSO`); classes missing from it are dropped.
    nodata
        Label value to ignore.
    max_per_class
        Keep at most this many squares per class (random, ``random_state``).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``label`` (default ``"code"``), ``polygon`` (an id) and the square geometry,
        in ``labels``' CRS.
    """
    import geopandas as gpd
    import shapely

    if "band" in labels.dims:
        labels = labels.isel(band=0, drop=True)
    if labels.rio.crs is None:
        raise AOIError("the label raster has no CRS; set it with labels.rio.write_crs(...)")
    lab = np.asarray(labels.transpose("y", "x").values)
    ny, nx = (lab.shape[0] // size) * size, (lab.shape[1] // size) * size
    blocks = lab[:ny, :nx].reshape(ny // size, size, nx // size, size).transpose(0, 2, 1, 3).reshape(
        ny // size, nx // size, size * size)
    first = blocks[..., 0]
    pure = np.all(blocks == first[..., None], axis=-1)
    if nodata is not None:
        pure &= first != nodata
    bi, bj = np.nonzero(pure)
    codes = first[bi, bj].astype(np.int64)
    if mapping is not None:
        keep = np.isin(codes, list(mapping))
        bi, bj, codes = bi[keep], bj[keep], np.array([mapping[int(c)] for c in codes[keep]], dtype=np.int64)
    if max_per_class is not None:
        rng = np.random.default_rng(random_state)
        picks = []
        for c in np.unique(codes):
            idx = np.flatnonzero(codes == c)
            picks.append(np.sort(rng.choice(idx, size=min(max_per_class, idx.size), replace=False)))
        sel = np.concatenate(picks) if picks else np.array([], int)
        bi, bj, codes = bi[sel], bj[sel], codes[sel]
    t = labels.rio.transform()
    x0, y0 = t @ (bj * size, bi * size)
    x1, y1 = t @ ((bj + 1) * size, (bi + 1) * size)
    geoms = shapely.box(np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1))
    gdf = gpd.GeoDataFrame({label: codes, "polygon": np.arange(codes.size)}, geometry=geoms, crs=labels.rio.crs)
    return gdf


def split_polygons(polygons, *, label: str = "code", ratio: float = 0.5, random_state: int = 0):
    """Split reference polygons into training and validation sets, per class and by polygon.

    Within each class, a share ``ratio`` of the polygons (at least one, and at least one left
    for training) goes to validation, as iota2 does (its ``ratio`` option, 0.5 by default):
    all pixels of a polygon fall on the same side, so validation pixels are not neighbours of
    training pixels.  Classes with a single polygon stay in training (with a warning).

    Returns
    -------
    (geopandas.GeoDataFrame, geopandas.GeoDataFrame)
        Training and validation polygons.
    """
    if not 0 < ratio < 1:
        raise ValueError(f"ratio={ratio!r}: the validation share must be between 0 and 1")
    _check_label(polygons, label)
    rng = np.random.default_rng(random_state)
    valid = np.zeros(len(polygons), bool)
    codes = polygons[label].to_numpy()
    for c in np.unique(codes):
        idx = np.flatnonzero(codes == c)
        if idx.size < 2:
            warnings.warn(f"class {c} has a single polygon: kept for training, not validated", TerraLabWarning,
                          stacklevel=2)
            continue
        k = int(np.clip(round(ratio * idx.size), 1, idx.size - 1))
        valid[rng.choice(idx, size=k, replace=False)] = True
    return polygons[~valid].copy(), polygons[valid].copy()


def _check_label(polygons, label: str) -> None:
    if label not in polygons.columns:
        raise KeyError(f"the polygons have no column {label!r} (columns: {list(polygons.columns)}); pass label=")


# ----------------------------------------------------------------------------- sampling
def _rasterize_polygons(grid: xr.DataArray, polygons, label: str):
    """Polygon index (0-based, -1 outside) of each pixel whose centre lies in a polygon."""
    from rasterio import features as rfeatures

    _check_label(polygons, label)
    if len(polygons) == 0:
        raise SamplingError("no reference polygons given; pass a GeoDataFrame with at least one polygon per class")
    crs = grid.rio.crs
    if polygons.crs is None:
        raise AOIError(f"the reference polygons have no CRS; set it, e.g. polygons.set_crs({crs.to_epsg() if crs else 32631})")
    if crs is not None and polygons.crs != crs:
        polygons = polygons.to_crs(crs)
    import shapely

    bounds = shapely.box(*grid.rio.bounds())
    inside = polygons.intersects(bounds).to_numpy()
    if not inside.any():
        raise AOIError(
            f"none of the {len(polygons)} reference polygons overlaps the cube (cube bounds {grid.rio.bounds()} "
            f"in {crs}, polygons' total bounds {tuple(polygons.total_bounds)}); use polygons from the area loaded, "
            "or load the cube over them (terra_lab.load(..., bbox=...))"
        )
    shapes = [(g, i + 1) for i, g in enumerate(polygons.geometry) if g is not None and not g.is_empty]
    ids = rfeatures.rasterize(shapes, out_shape=(grid.sizes["y"], grid.sizes["x"]), transform=grid.rio.transform(),
                              fill=0, dtype="int32", all_touched=False)
    return ids - 1, polygons


def sample_polygons(features: xr.DataArray, polygons, *, label: str = "code") -> pd.DataFrame:
    """Feature values of every pixel whose centre lies in a reference polygon.

    Reads only the chunks that hold polygons.  Pixels with a NaN feature (never observed
    clear) are dropped.

    Returns
    -------
    pandas.DataFrame
        One row per pixel: the features (columns named as ``features.feature``), ``label``,
        ``polygon`` (row number in ``polygons``), ``row`` and ``col``.

    Raises
    ------
    AOIError
        No polygon overlaps the cube, or the polygons have no CRS.
    SamplingError
        A class of ``polygons`` gets no valid pixel.
    """
    ids, polygons = _rasterize_polygons(features, polygons, label)
    rows, cols = np.nonzero(ids >= 0)
    pid = ids[rows, cols]
    codes = polygons[label].to_numpy()
    values = features.transpose("feature", "y", "x").isel(
        y=xr.DataArray(rows, dims="sample"), x=xr.DataArray(cols, dims="sample")).values.T
    df = pd.DataFrame(values, columns=[str(f) for f in features["feature"].values])
    ok = ~np.isnan(values).any(axis=1)
    df[label], df["polygon"], df["row"], df["col"] = codes[pid], pid, rows, cols
    df = df[ok].reset_index(drop=True)
    missing = sorted(set(np.unique(codes).tolist()) - set(df[label].unique().tolist()))
    if missing:
        raise SamplingError(
            f"class(es) {missing} of column {label!r} get no valid pixel: their polygons lie outside the cube, are "
            "smaller than a pixel (no pixel centre inside) or were never observed clear; add polygons for them, or "
            "drop these classes from the reference data"
        )
    return df


# ----------------------------------------------------------------------------- training
@dataclass
class LandcoverClassifier:
    """A trained land-cover random forest and what it was trained on."""

    model: Any  #: the fitted scikit-learn classifier
    features: list[str]
    classes: np.ndarray
    label: str
    samples_per_class: dict[int, int] = field(default_factory=dict)
    params: dict = field(default_factory=dict)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(x)


def train_landcover(features: xr.DataArray, polygons, *, label: str = "code", n_estimators: int = 100,
                    max_depth: int | None = 25, min_samples_split: int = 5, max_features: str | float = "sqrt",
                    max_samples_per_class: int | None = None, random_state: int = 0,
                    n_jobs: int | None = None) -> LandcoverClassifier:
    """Train the iota2 random forest on the pixels of reference polygons.

    Defaults are iota2's (OTB random forest as configured for OSO [1]_): 100 trees, maximum
    depth 25, at least 5 samples to split a node, sqrt(n_features) features per split.
    Training is eager (on the sampled pixels only); :func:`classify` is lazy.

    Parameters
    ----------
    features
        :func:`gapfilled_features` output.
    polygons
        Training polygons (GeoDataFrame) with a class column ``label``.
    max_samples_per_class
        Cap on training pixels per class (random, like iota2's per-class sample budget).

    Returns
    -------
    LandcoverClassifier

    References
    ----------
    .. [1] Inglada et al. (2017), Remote Sensing 9(1), 95; Breiman (2001), Machine Learning 45.
    """
    from sklearn.ensemble import RandomForestClassifier

    samples = sample_polygons(features, polygons, label=label)
    if max_samples_per_class is not None:
        rng = np.random.default_rng(random_state)
        keep = [rng.choice(idx, size=min(len(idx), max_samples_per_class), replace=False)
                for idx in samples.groupby(label).indices.values()]
        samples = samples.loc[np.sort(np.concatenate(keep))]
    names = [str(f) for f in features["feature"].values]
    rf = RandomForestClassifier(n_estimators=n_estimators, max_depth=max_depth, min_samples_split=min_samples_split,
                                max_features=max_features, random_state=random_state, n_jobs=n_jobs)
    rf.fit(samples[names].to_numpy(np.float32), samples[label].to_numpy())
    counts = {int(k): int(v) for k, v in samples[label].value_counts().sort_index().items()}
    params = dict(n_estimators=n_estimators, max_depth=max_depth, min_samples_split=min_samples_split,
                  max_features=max_features, max_samples_per_class=max_samples_per_class, random_state=random_state)
    return LandcoverClassifier(model=rf, features=names, classes=np.asarray(rf.classes_), label=label,
                               samples_per_class=counts, params=params)


def _predict_block(x: np.ndarray, model, classes: np.ndarray):
    flat, ok, shape = valid_rows(x)
    code = np.zeros(flat.shape[0], np.uint16)
    conf = np.full(flat.shape[0], np.nan, np.float32)
    if ok.any():
        p = model.predict_proba(flat[ok])
        k = np.argmax(p, axis=1)
        code[ok] = classes[k]
        conf[ok] = p[np.arange(k.size), k]
    return code.reshape(shape), conf.reshape(shape)


def classify(features: xr.DataArray, classifier: LandcoverClassifier) -> xr.Dataset:
    """Land-cover map and confidence from a trained classifier (lazy, one task per spatial chunk).

    Returns
    -------
    xarray.Dataset
        ``landcover`` (uint16 class codes, 0 = no data: pixels never observed clear) and
        ``confidence`` (float32 in [0, 1]: the winning class's probability, the trees' class
        probabilities averaged (scikit-learn's ``predict_proba``; a vote share when leaves are pure),
        OSO's confidence layer divided by 100; NaN for no data).
    """
    names = [str(f) for f in features["feature"].values]
    if names != list(classifier.features):
        missing = [f for f in classifier.features if f not in names]
        raise MissingBandError(
            f"the features differ from those the classifier was trained on (missing {missing[:5]}"
            f"{'...' if len(missing) > 5 else ''}; {len(names)} given, {len(classifier.features)} expected); compute "
            "them with the same gapfilled_features(cube, bands=..., step_days=..., start=..., end=...) options"
        )
    feats = features.transpose("feature", "y", "x")
    if feats.chunks is not None:
        feats = rechunk(feats, feature=-1)
    code, conf = xr.apply_ufunc(
        _predict_block, feats, input_core_dims=[["feature"]], output_core_dims=[[], []],
        kwargs={"model": classifier.model, "classes": classifier.classes},
        dask="parallelized", output_dtypes=[np.uint16, np.float32], keep_attrs=False,
    )
    code = code.drop_vars(["feature", "band", "date"], errors="ignore").rename("landcover")
    conf = conf.drop_vars(["feature", "band", "date"], errors="ignore").rename("confidence")
    code.attrs.update(long_name="land cover (class codes)", nodata=0)
    conf.attrs.update(long_name="confidence (share of random-forest votes)", units="1")
    out = xr.Dataset({"landcover": code, "confidence": conf})
    out = with_provenance(out, algorithm="iota2 random forest", source=features, reference=_REF,
                          params={**classifier.params, "classes": classifier.classes.tolist(),
                                  "samples_per_class": classifier.samples_per_class})
    for v in out.data_vars.values():
        v.attrs.update({k: val for k, val in out.attrs.items() if k.startswith("terra_lab") or k == "references"})
    return out


# ----------------------------------------------------------------------------- accuracy
@dataclass
class AccuracyReport:
    """Accuracy figures of a classification against reference labels."""

    confusion: pd.DataFrame  #: rows: reference class, columns: predicted class (pixel counts)
    overall_accuracy: float
    kappa: float
    f1: pd.Series  #: per class
    producer_accuracy: pd.Series  #: recall, per reference class
    user_accuracy: pd.Series  #: precision, per predicted class
    n: int

    def __str__(self) -> str:
        return (f"OA {self.overall_accuracy:.4f}, kappa {self.kappa:.4f}, n {self.n}; F1 "
                + ", ".join(f"{k}: {v:.3f}" for k, v in self.f1.items()))


def accuracy_report(reference, predicted, *, labels: Sequence[int] | None = None,
                    nodata: int | None = 0) -> AccuracyReport:
    """Overall accuracy, Cohen's kappa, per-class F1 and the confusion matrix.

    ``kappa = (p_o - p_e) / (1 - p_e)`` with ``p_o`` the overall accuracy and ``p_e`` the
    chance agreement from the confusion matrix's margins [1]_.  Pixels whose reference or
    prediction equals ``nodata`` are left out.

    References
    ----------
    .. [1] Congalton, R. G. (1991). Remote Sens. Environ. 37, 35-46; Cohen, J. (1960).
       Educ. Psychol. Meas. 20, 37-46.
    """
    ref = np.asarray(reference).ravel()
    pred = np.asarray(predicted).ravel()
    if ref.shape != pred.shape:
        raise ValueError(f"reference ({ref.size} values) and predicted ({pred.size} values) differ in size")
    if nodata is not None:
        keep = (ref != nodata) & (pred != nodata)
        ref, pred = ref[keep], pred[keep]
    if ref.size == 0:
        raise SamplingError("no pixel to assess: reference and prediction share no valid pixel")
    codes = np.union1d(np.unique(ref), np.unique(pred)) if labels is None else np.asarray(labels)
    index = {int(c): i for i, c in enumerate(codes)}
    ri = np.array([index.get(int(c), -1) for c in ref])
    pi = np.array([index.get(int(c), -1) for c in pred])
    ok = (ri >= 0) & (pi >= 0)
    k = codes.size
    cm = np.bincount(ri[ok] * k + pi[ok], minlength=k * k).reshape(k, k)
    n = cm.sum()
    po = np.trace(cm) / n
    pe = float((cm.sum(0).astype(np.float64) * cm.sum(1)).sum()) / float(n) ** 2
    kappa = (po - pe) / (1 - pe) if pe < 1 else 1.0
    diag = np.diag(cm).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = diag / cm.sum(1)
        precision = diag / cm.sum(0)
        f1 = np.where(recall + precision > 0, 2 * recall * precision / (recall + precision), 0.0)
    idx = pd.Index(codes, name="class")
    return AccuracyReport(
        confusion=pd.DataFrame(cm, index=pd.Index(codes, name="reference"), columns=pd.Index(codes, name="predicted")),
        overall_accuracy=float(po), kappa=float(kappa), f1=pd.Series(f1, index=idx, name="f1"),
        producer_accuracy=pd.Series(recall, index=idx, name="producer_accuracy"),
        user_accuracy=pd.Series(precision, index=idx, name="user_accuracy"), n=int(n),
    )


def validate(classification: xr.DataArray | xr.Dataset, polygons, *, label: str = "code") -> AccuracyReport:
    """Accuracy of a land-cover map on the pixels of validation polygons (centre inside).

    Computes only the chunks that hold polygons.
    """
    lc = classification["landcover"] if isinstance(classification, xr.Dataset) else classification
    ids, polygons = _rasterize_polygons(lc, polygons, label)
    rows, cols = np.nonzero(ids >= 0)
    pred = lc.transpose("y", "x").isel(y=xr.DataArray(rows, dims="s"), x=xr.DataArray(cols, dims="s")).values
    ref = polygons[label].to_numpy()[ids[rows, cols]]
    return accuracy_report(ref, pred, nodata=0)
