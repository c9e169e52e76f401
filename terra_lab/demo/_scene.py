"""A synthetic but physically plausible alpine scene, evaluable anywhere.

Every field (elevation, land cover, snow, clouds, lake turbidity, forest
dieback) is an analytic function of map coordinates in the scene's reference
CRS (EPSG:32631), so the same scene can be rendered on any grid, including a
tile in another UTM zone.  All randomness comes from one seeded generator, so
the archive is identical on every machine.

The scene holds (west to east, low to high):

* a valley floor at about 600 m with crop parcels (summer and winter crops)
  and grassland, and a lake whose turbidity follows a snow-melt cycle;
* forest slopes (broadleaf below about 1100 m, conifers above) with two
  conifer dieback patches whose onsets are known dates;
* two disturbances on known dates: a summer 2023 fire over the low forest
  (char fraction grading from unburnt to high severity, partial recovery
  afterwards) and an autumn 2023 clear-cut in the conifers (bare soil, then
  slow regrowth);
* alpine meadows and rock up to about 2900 m, snow-covered according to an
  elevation-driven snowline that falls in autumn and rises in spring;
* clouds (thick, thin cirrus) with their shadows, and a few acquisitions cut
  by the orbit's swath edge.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from ..profiles import OSO_2016_TO_2018

__all__ = ["DEMO_TO_OSO", "LANDCOVER_CLASSES", "Acquisition", "Scene", "day_number"]


def day_number(d: dt.date) -> int:
    """Days since 1970-01-01 (the encoding of dates in the truth rasters)."""
    return (d - dt.date(1970, 1, 1)).days

#: Land-cover codes of the demo scene, with their OSO 2016 (17-class) codes (mapped onto the
#: 23-class nomenclature by :data:`terra_lab.profiles.OSO_2016_TO_2018`).
LANDCOVER_CLASSES = {
    1: ("urban", 41),
    2: ("summer crop", 11),
    3: ("winter crop", 12),
    4: ("grassland", 211),
    5: ("broadleaf forest", 31),
    6: ("conifer forest", 32),
    7: ("alpine meadow / rock", 45),
    8: ("water", 51),
}

#: Demo scene classes -> OSO 23-class codes through the profile's 2016 -> 2018 mapping: urban ->
#: dense built-up, summer crop -> maize, winter crop -> straw cereals, grassland -> meadows,
#: broadleaf / conifer forest, alpine meadow and rock -> mineral surfaces, water.
DEMO_TO_OSO: dict[int, int] = {k: OSO_2016_TO_2018[code] for k, (_, code) in LANDCOVER_CLASSES.items()}

# Spectra (surface reflectance) for the ten S2 bands B2 B3 B4 B5 B6 B7 B8 B8A B11 B12.
BANDS = ("B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B11", "B12")
_SPECTRA = {
    "soil": [0.08, 0.11, 0.14, 0.17, 0.19, 0.20, 0.22, 0.23, 0.30, 0.24],
    "veg": [0.03, 0.07, 0.03, 0.10, 0.30, 0.38, 0.42, 0.43, 0.20, 0.09],
    "conifer": [0.02, 0.04, 0.02, 0.07, 0.19, 0.24, 0.27, 0.28, 0.13, 0.06],
    "dead": [0.05, 0.08, 0.10, 0.14, 0.19, 0.21, 0.22, 0.23, 0.29, 0.20],
    "rock": [0.14, 0.16, 0.18, 0.20, 0.21, 0.22, 0.23, 0.24, 0.27, 0.22],
    "urban": [0.12, 0.13, 0.14, 0.16, 0.17, 0.18, 0.19, 0.19, 0.22, 0.20],
    "snow": [0.88, 0.87, 0.85, 0.83, 0.80, 0.77, 0.75, 0.72, 0.05, 0.03],
    "cloud": [0.52, 0.50, 0.50, 0.51, 0.52, 0.52, 0.53, 0.53, 0.38, 0.28],
    "understorey": [0.02, 0.045, 0.02, 0.08, 0.25, 0.32, 0.36, 0.37, 0.15, 0.065],
    "water": [0.045, 0.040, 0.020, 0.012, 0.008, 0.007, 0.006, 0.005, 0.002, 0.001],
    # char and ash over burnt soil: dark in the visible and NIR, bright in the SWIR (NBR about -0.3)
    "char": [0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.20, 0.19],
}
SPECTRA = {k: np.asarray(v, dtype=np.float32) for k, v in _SPECTRA.items()}

#: Dogliotti et al. (2015) single-band turbidity algorithm, 645 nm (red):
#: T = A rho_w / (1 - rho_w / C), A = 228.1 FNU, C = 0.1641.  The scene uses the
#: inverse, rho_w = T / (A + T / C), so that the published algorithm recovers the truth.
DOGLIOTTI_A, DOGLIOTTI_C = 228.1, 0.1641
#: the same algorithm's 859 nm (NIR) coefficients, used for very turbid water
DOGLIOTTI_NIR_A, DOGLIOTTI_NIR_C = 3078.9, 0.2112


@dataclass(frozen=True)
class Acquisition:
    """One overpass: time, platform, cloud and swath-edge parameters."""

    index: int
    time: dt.datetime
    platform: str
    cloud_fraction: float
    cloud_seed: int
    thin: bool
    edge_cut: float | None  # fraction of the tile's width lost to the swath edge, or None

    @property
    def day(self) -> dt.date:
        return self.time.date()


class _Noise:
    """Smooth band-limited noise: a sum of random plane waves, evaluable anywhere."""

    def __init__(self, rng: np.random.Generator, n: int, wavelength: tuple[float, float]):
        ang = rng.uniform(0, np.pi, n)
        lam = rng.uniform(*wavelength, n)
        self.kx = np.cos(ang) * 2 * np.pi / lam
        self.ky = np.sin(ang) * 2 * np.pi / lam
        self.phase = rng.uniform(0, 2 * np.pi, n)
        self.amp = 1.0 / np.sqrt(n / 2)

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = np.zeros(np.broadcast(x, y).shape, dtype=np.float64)
        for kx, ky, ph in zip(self.kx, self.ky, self.phase):
            out += np.cos(kx * x + ky * y + ph)
        return out * self.amp


@dataclass
class Scene:
    """The demo scene.  Coordinates are EPSG:32631 metres."""

    seed: int = 20231115
    x0: float = 757_200.0  # west edge of the main tile (T31TGK crop)
    y0: float = 5_012_400.0  # north edge
    extent: float = 4_000.0  # metres, square
    start: dt.date = dt.date(2022, 9, 1)
    end: dt.date = dt.date(2024, 8, 31)
    dieback_onsets: tuple[dt.date, ...] = (dt.date(2024, 3, 20), dt.date(2024, 6, 10))
    fire_date: dt.date = dt.date(2023, 7, 22)
    clearcut_date: dt.date = dt.date(2023, 10, 20)
    acquisitions: list[Acquisition] = field(init=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        self._terrain = _Noise(rng, 24, (900.0, 3000.0))
        self._patch = _Noise(rng, 24, (250.0, 900.0))
        self._fine = _Noise(rng, 24, (80.0, 300.0))
        self._snowvar = _Noise(rng, 16, (150.0, 600.0))
        self._turb = _Noise(rng, 8, (200.0, 600.0))
        self._cloud_noises = [_Noise(rng, 16, (600.0, 3000.0)) for _ in range(8)]
        self.acquisitions = self._make_acquisitions(rng)
        self._dieback_centres = [
            (self.x0 + 0.70 * self.extent, self.y0 - 0.91 * self.extent, 150.0),  # inside the southern conifers
            (self.x0 + 0.55 * self.extent, self.y0 - 0.68 * self.extent, 130.0),
        ]
        self._lake = (self.x0 + 0.16 * self.extent, self.y0 - 0.78 * self.extent, 420.0, 260.0)
        # disturbances draw from their own generator: the acquisitions and clouds above are unchanged
        drng = np.random.default_rng(self.seed + 1)
        self._burn_noise = _Noise(drng, 16, (150.0, 500.0))
        self._fire = (self.x0 + 0.26 * self.extent, self.y0 - 0.91 * self.extent, 380.0, 250.0)
        # clear-cut rectangle in the conifers: x min, x max, y min, y max
        self._clearcut = (self.x0 + 0.36 * self.extent, self.x0 + 0.44 * self.extent,
                          self.y0 - 0.79 * self.extent, self.y0 - 0.74 * self.extent)

    # ------------------------------------------------------------------ time
    def _make_acquisitions(self, rng: np.random.Generator) -> list[Acquisition]:
        """Every 10 days in the first hydrological year, every 5 days in the second."""
        days, d = [], self.start
        second_year = dt.date(self.start.year + 1, 9, 1)
        while d <= self.end:
            days.append(d)
            d += dt.timedelta(days=10 if d < second_year else 5)
        acqs = []
        for i, day in enumerate(days):
            # a mix of clear, partly and fully cloudy days, like the Alps
            u = rng.random()
            frac = 0.0 if u < 0.35 else (1.0 if u > 0.88 else float(rng.uniform(0.05, 0.85)))
            t = dt.datetime(day.year, day.month, day.day, 10, 37, 0) + dt.timedelta(
                seconds=int(rng.integers(0, 59)), microseconds=int(rng.integers(0, 999)) * 1000
            )
            edge = float(rng.uniform(0.15, 0.45)) if rng.random() < 0.08 else None
            acqs.append(
                Acquisition(
                    index=i,
                    time=t,
                    platform="SENTINEL2A" if i % 2 == 0 else "SENTINEL2B",
                    cloud_fraction=frac,
                    cloud_seed=int(rng.integers(0, 2**31)),
                    thin=bool(rng.random() < 0.15),
                    edge_cut=edge,
                )
            )
        return acqs

    # ---------------------------------------------------------------- static
    def _uv(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (x - self.x0) / self.extent, (self.y0 - y) / self.extent

    def lake(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        lx, ly, a, b = self._lake
        return ((x - lx) / a) ** 2 + ((y - ly) / b) ** 2 <= 1.0

    def elevation(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Elevation (m): a valley in the south-west rising to ridges in the north-east."""
        u, v = self._uv(x, y)
        s = np.clip(0.62 * u + 0.55 * (1 - v) + 0.12 * self._terrain(x, y), 0, None)
        z = 600.0 + 2300.0 * np.tanh(1.6 * s) ** 1.5 + 60.0 * self._fine(x, y) * np.clip(s, 0, 1)
        return np.where(self.lake(x, y), 640.0, np.maximum(z, 645.0)).astype(np.float32)

    def landcover(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Land-cover code (see ``LANDCOVER_CLASSES``)."""
        z = self.elevation(x, y)
        p = self._patch(x, y)
        lc = np.full(z.shape, 7, dtype=np.uint8)
        forest = (z >= 820) & (z < 1900 + 80 * p)
        lc[forest & (z < 1100 + 60 * p)] = 5
        lc[forest & (z >= 1100 + 60 * p)] = 6
        low = z < 820
        # parcels: a 250 m grid, class by a hash of the parcel index
        pi = np.floor((x - self.x0) / 250.0).astype(np.int64)
        pj = np.floor((self.y0 - y) / 250.0).astype(np.int64)
        h = (pi * 73856093 ^ pj * 19349663 ^ self.seed) % 7
        parcel = np.choose(np.clip(h, 0, 6), [2, 2, 3, 3, 4, 4, 4]).astype(np.uint8)
        lc[low] = parcel[low]
        town = ((x - (self.x0 + 0.05 * self.extent)) ** 2 + (y - (self.y0 - 0.95 * self.extent)) ** 2) < 180.0**2
        lc[low & town] = 1
        lc[self.lake(x, y)] = 8
        return lc

    def dieback_onset(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Dieback onset as days since 1970-01-01 (0 where no dieback)."""
        lc = self.landcover(x, y)
        out = np.zeros(lc.shape, dtype=np.int32)
        for (cx, cy, r), onset in zip(self._dieback_centres, self.dieback_onsets):
            inside = ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) & (lc == 6)
            out[inside] = day_number(onset)
        return out

    #: burn severity classes of the truth (unburnt, low, moderate, high) by char fraction: the fractions
    #: whose classes best agree with Key & Benson's (2006) dNBR 0.10, 0.27 and 0.66 on the noiseless scene
    #: (NBR from B8A and B12; 94 % of burnt pixels agree: conifers, darker in the NIR, cross each dNBR
    #: at a lower fraction than the broadleaves, which is why the truth is a fraction, not a dNBR)
    BURN_CLASS_FRACTIONS: ClassVar[tuple[float, float, float]] = (0.19, 0.45, 0.85)
    BURN_CLASSES: ClassVar[dict[int, str]] = {0: "unburnt", 1: "low", 2: "moderate", 3: "high"}

    def burn_fraction(self, x: np.ndarray, y: np.ndarray, lc: np.ndarray | None = None) -> np.ndarray:
        """Char fraction just after the fire (0..1): highest at the fire's core, 0 outside its perimeter."""
        lc = self.landcover(x, y) if lc is None else lc
        cx, cy, a, b = self._fire
        noise = self._burn_noise(x, y)
        rr = np.sqrt(((x - cx) / a) ** 2 + ((y - cy) / b) ** 2) * (1 + 0.12 * noise)
        frac = np.clip(1.25 * (1 - rr**1.6) + 0.10 * noise, 0, 1)
        burnable = np.isin(lc, (4, 5, 6))  # grassland and forest
        return np.where(burnable & (rr < 1), frac, 0).astype(np.float32)

    def burn_severity(self, fraction: np.ndarray) -> np.ndarray:
        """Severity class (see ``BURN_CLASSES``) of a char fraction."""
        return np.digitize(fraction, self.BURN_CLASS_FRACTIONS).astype(np.uint8)

    def clearcut_day(self, x: np.ndarray, y: np.ndarray, lc: np.ndarray | None = None) -> np.ndarray:
        """Day of the clear-cut (days since 1970-01-01, 0 where none): the forest inside the rectangle."""
        lc = self.landcover(x, y) if lc is None else lc
        x0, x1, y0, y1 = self._clearcut
        inside = (x >= x0) & (x < x1) & (y >= y0) & (y < y1) & np.isin(lc, (5, 6))
        return np.where(inside, day_number(self.clearcut_date), 0).astype(np.int32)

    def disturbances(self, x: np.ndarray, y: np.ndarray, lc: np.ndarray) -> dict[str, np.ndarray]:
        """Static disturbance fields: char fraction, fire date and clear-cut date (days since 1970-01-01)."""
        burn = self.burn_fraction(x, y, lc)
        return {
            "burn_fraction": burn,
            "fire_date": np.where(burn > 0, day_number(self.fire_date), 0).astype(np.int32),
            "clearcut_date": self.clearcut_day(x, y, lc),
        }

    def static(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """The fields that do not change with time, computed once per grid."""
        from . import _structure_soil  # canopy density (its module imports this one)

        return {
            "elevation": (z := self.elevation(x, y)),
            "landcover": (lc := self.landcover(x, y)),
            "dieback_onset": self.dieback_onset(x, y),
            "snow_variability": 120.0 * self._snowvar(x, y),
            "canopy_density": _structure_soil.canopy_density(self, x, y, lc, z),
            **self.disturbances(x, y, lc),
        }

    # ---------------------------------------------------------- disturbances
    @staticmethod
    def fire_recovery(days_since: np.ndarray | int) -> np.ndarray:
        """Share of the char signal left ``days_since`` the fire: none lost for 45 days, then half lost
        with a 250-day time constant (vegetation regrowing through the ash): a partial recovery."""
        d = np.clip(np.asarray(days_since, dtype=np.float64) - 45.0, 0, None)
        return 1.0 - 0.5 * (1.0 - np.exp(-d / 250.0))

    @staticmethod
    def clearcut_regrowth(days_since: np.ndarray | int) -> np.ndarray:
        """Green cover of a clear-cut ``days_since`` the cut: bare soil, then slow regrowth (0.5 at most)."""
        d = np.clip(np.asarray(days_since, dtype=np.float64), 0, None)
        return 0.5 * (1.0 - np.exp(-d / 400.0))

    def _disturb(self, refl: np.ndarray, static: dict[str, np.ndarray], days: int) -> tuple[np.ndarray, np.ndarray]:
        """Apply the clear-cut and the fire to ``refl`` on day ``days``; also return the pixels cut by then."""
        cut_day = static.get("clearcut_date")
        cut = np.zeros(refl.shape[:-1], bool) if cut_day is None else (cut_day > 0) & (days >= cut_day)
        if cut_day is not None and cut.any():
            g = self.clearcut_regrowth(days - cut_day)[..., None]
            bare = (1 - g) * SPECTRA["soil"] + g * SPECTRA["veg"]
            refl = np.where(cut[..., None], bare, refl)
        burn = static.get("burn_fraction")
        fire = day_number(self.fire_date)
        if burn is not None and days >= fire:
            s = (burn * self.fire_recovery(days - fire))[..., None]
            refl = (1 - s) * refl + s * SPECTRA["char"]
        return refl, cut

    # -------------------------------------------------------------- dynamics
    @staticmethod
    def _double_logistic(doy: float, sos: float, eos: float, lo: float, hi: float) -> float:
        return lo + (hi - lo) * (1 / (1 + np.exp(-(doy - sos) / 8.0)) - 1 / (1 + np.exp(-(doy - eos) / 8.0)))

    #: (start of season, end of season, min, max) of greenness per class, day of year
    PHENOLOGY: ClassVar[dict[int, tuple[int, int, float, float]]] = {
        1: (120, 290, 0.10, 0.20),
        2: (140, 250, 0.05, 0.90),
        3: (70, 185, 0.10, 0.85),
        4: (100, 290, 0.35, 0.80),
        5: (115, 295, 0.25, 0.90),
        6: (100, 300, 0.80, 0.88),
        7: (160, 260, 0.05, 0.45),
    }

    def greenness(self, lc: np.ndarray, day: dt.date) -> np.ndarray:
        doy = day.timetuple().tm_yday
        g = np.zeros(lc.shape, dtype=np.float32)
        for code, (sos, eos, lo, hi) in self.PHENOLOGY.items():
            g[lc == code] = self._double_logistic(doy, sos, eos, lo, hi)
        return g

    def snowline(self, day: dt.date) -> float:
        """Snowline elevation (m) on ``day``: about 2800 m in September, 950 m in late January."""
        hy_start = dt.date(day.year if day.month >= 9 else day.year - 1, 9, 1)
        t = (day - hy_start).days / 365.0  # 0 = 1 Sept
        # low point at t ~ 0.4 (mid-January), back above 2800 m by late July
        base = 2900.0 - 1950.0 * np.exp(-(((t - 0.40) / 0.19) ** 2))
        if t > 0.4:  # melt is slower than accumulation
            base = 2900.0 - 1950.0 * np.exp(-(((t - 0.40) / 0.26) ** 2))
        return float(base)

    def snow(self, static: dict[str, np.ndarray], day: dt.date) -> np.ndarray:
        """Snow cover seen from above: elevation (plus local variability) above the snowline."""
        z = static["elevation"] + static["snow_variability"]
        return (z > self.snowline(day)) & (static["landcover"] != 8)

    def turbidity(self, x: np.ndarray, y: np.ndarray, day: dt.date) -> np.ndarray:
        """Lake turbidity (FNU): a melt-season maximum and a plume near the inflow."""
        doy = day.timetuple().tm_yday
        seasonal = 4.0 + 36.0 * np.exp(-(((doy - 160) / 35.0) ** 2))
        lx, ly, a, _b = self._lake
        plume = np.exp(-(((x - (lx + a)) ** 2 + (y - ly) ** 2) / (2 * (0.6 * a) ** 2)))
        t = seasonal * (0.6 + 0.8 * plume) * (1 + 0.1 * self._turb(x, y))
        return np.where(self.lake(x, y), t, np.nan).astype(np.float32)

    def clouds(self, x: np.ndarray, y: np.ndarray, acq: Acquisition) -> tuple[np.ndarray, np.ndarray]:
        """(thick cloud, thin cloud) boolean fields for acquisition ``acq``."""
        shape = np.broadcast(x, y).shape
        if acq.cloud_fraction <= 0:
            return np.zeros(shape, bool), np.zeros(shape, bool)
        if acq.cloud_fraction >= 1:
            return np.ones(shape, bool), np.zeros(shape, bool)
        noise = self._cloud_noises[acq.cloud_seed % len(self._cloud_noises)]
        shift = (acq.cloud_seed % 9973) * 37.0
        f = noise(x + shift, y - shift)
        thr = self._cloud_threshold(acq)
        thick = f > thr
        thin = (f > thr - 0.35) & ~thick if acq.thin else np.zeros(shape, bool)
        return thick, thin

    def _cloud_threshold(self, acq: Acquisition) -> float:
        """Threshold giving ``cloud_fraction`` on a reference sampling of the main tile."""
        s = np.linspace(0, self.extent, 64)
        gx, gy = np.meshgrid(self.x0 + s, self.y0 - s)
        noise = self._cloud_noises[acq.cloud_seed % len(self._cloud_noises)]
        shift = (acq.cloud_seed % 9973) * 37.0
        return float(np.quantile(noise(gx + shift, gy - shift), 1 - acq.cloud_fraction))

    #: cloud shadow offset (m): the sun is south-south-east at 10:30 UTC, shadows fall north-north-west
    SHADOW_OFFSET = (-220.0, 420.0)

    def shadows(self, x: np.ndarray, y: np.ndarray, acq: Acquisition) -> np.ndarray:
        dx, dy = self.SHADOW_OFFSET
        thick_src, _ = self.clouds(x - dx, y - dy, acq)
        thick, _ = self.clouds(x, y, acq)
        return thick_src & ~thick

    def edge(self, x: np.ndarray, y: np.ndarray, acq: Acquisition) -> np.ndarray:
        """True outside the swath (a slanted line cutting the west of the tile)."""
        if acq.edge_cut is None:
            return np.zeros(np.broadcast(x, y).shape, bool)
        u, v = self._uv(x, y)
        return u + 0.15 * v < acq.edge_cut

    # ------------------------------------------------------------ rendering
    def reflectance(
        self,
        x: np.ndarray,
        y: np.ndarray,
        acq: Acquisition,
        noise_rng: np.random.Generator,
        static: dict[str, np.ndarray] | None = None,
    ) -> dict:
        """Surface reflectance (10 bands) and the truth layers for one acquisition."""
        static = static if static is not None else self.static(x, y)
        day = acq.day
        lc = static["landcover"]
        g = self.greenness(lc, day)[..., None]
        refl = (1 - g) * SPECTRA["soil"] + g * SPECTRA["veg"]
        conifer = (lc == 6)[..., None]
        refl = np.where(conifer, SPECTRA["conifer"], refl)
        if "canopy_density" in static:  # open stands show their understorey: shaded grass and shrubs
            # (dark in the visible as the canopy, brighter in the NIR: fordead's soil test, green + red
            # > 0.08, must not see healthy stands, and the density shows in the red edge and NIR)
            d = np.where(np.isin(lc, (5, 6)), static["canopy_density"], 1.0)[..., None]
            refl = d * refl + (1 - d) * SPECTRA["understorey"]
        onset = static["dieback_onset"]
        days = day_number(day)
        # dieback: a red-attack stage reaching full strength 45 days after onset
        stress = np.where(onset > 0, np.clip((days - onset) / 45.0, 0, 1), 0)[..., None]
        refl = (1 - stress) * refl + stress * SPECTRA["dead"]
        refl, cut = self._disturb(refl, static, days)
        refl = np.where((lc == 7)[..., None] & (g < 0.2), SPECTRA["rock"], refl)
        refl = np.where((lc == 1)[..., None], SPECTRA["urban"], refl)
        water = lc == 8
        turb = self.turbidity(x, y, day)
        rho_red = turb / (DOGLIOTTI_A + turb / DOGLIOTTI_C)
        wspec = np.broadcast_to(SPECTRA["water"], refl.shape).copy()
        # turbid water brightens green, red and the red edge in proportion to rho_w(red)
        wspec[..., 1] += 0.6 * np.nan_to_num(rho_red)
        wspec[..., 2] = np.nan_to_num(rho_red, nan=0.02)
        wspec[..., 3] += 0.5 * np.nan_to_num(rho_red)
        # ... and the NIR (B8, B8A) as Dogliotti's 859 nm relation gives for the same turbidity, so the
        # switching algorithm (red below 0.05, NIR above 0.07, blended between) recovers the truth
        rho_nir = turb / (DOGLIOTTI_NIR_A + turb / DOGLIOTTI_NIR_C)
        wspec[..., 6] = np.nan_to_num(rho_nir, nan=0.006)
        wspec[..., 7] = np.nan_to_num(rho_nir, nan=0.005)
        refl = np.where(water[..., None], wspec, refl)
        snow = self.snow(static, day)
        canopy = (np.isin(lc, (5, 6)) & ~cut)[..., None]
        snow_frac = np.where(canopy, 0.7, 1.0) * snow[..., None]
        refl = (1 - snow_frac) * refl + snow_frac * SPECTRA["snow"]
        refl = refl + noise_rng.normal(0, 0.004, refl.shape)
        thick, thin = self.clouds(x, y, acq)
        shadow = self.shadows(x, y, acq)
        refl = np.where(shadow[..., None], refl * 0.35, refl)
        refl = np.where(thin[..., None], 0.7 * refl + 0.3 * SPECTRA["cloud"], refl)
        refl = np.where(thick[..., None], SPECTRA["cloud"] + noise_rng.normal(0, 0.02, refl.shape), refl)
        return {
            "reflectance": np.clip(refl, 0.0001, 1.2).astype(np.float32),
            "landcover": lc,
            "snow": snow,
            "water": water,
            "cloud": thick,
            "thin_cloud": thin,
            "shadow": shadow,
            "edge": self.edge(x, y, acq),
            "turbidity": turb,
        }
