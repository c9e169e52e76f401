"""terra_lab.load as three named phases (plan -> stack -> decode masks) over typed objects."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr

import terra_lab
from terra_lab.cube._load import Grid, LoadPlan, Stacked, _as_dicts, _prepared, decode_masks, plan_load, stack
from terra_lab.profiles import MUSCATE_S2

BBOX = (6.29, 45.18, 6.30, 45.19)


@pytest.fixture(scope="module")
def items(demo_items):
    return [it for it in demo_items if "_T31TGK_" in (it["id"] if isinstance(it, dict) else it.id)][:4]


def _plan(items, **kw) -> LoadPlan:
    args = dict(bands=["red", "swir16"], resolution=20, bbox=BBOX, crs=None, chunks=None, masks=True,
                raw_masks=True, level=None, group_by="solar_day", resampling="nearest", on_error="raise",
                max_bytes=None, like=None)
    return plan_load(_prepared(_as_dicts(items)), MUSCATE_S2, **(args | kw))


def test_phases_are_typed_lazy_and_give_load(items, no_compute):
    with no_compute():
        plan = _plan(items)
        assert isinstance(plan.grid, Grid) and plan.grid.epsg == 32631 and plan.grid.resolution == 20.0
        assert plan.commons == ("red", "swir16") and plan.band_assets == ("FRE_B4", "FRE_B11")
        assert plan.raw_keep["CLM"] == "CLM_R2" and "CLM_R2" in plan.mask_assets
        assert plan.layers["cloud"][0].asset == "CLM_R2"
        with pytest.raises(dataclasses.FrozenInstanceError):
            plan.level = "SRE"  # type: ignore[misc]
        stacked = stack(plan)
        assert isinstance(stacked, Stacked) and stacked.masks is not None
        assert stacked.reflectance.sizes["band"] == 2 and stacked.masks.sizes["band"] == len(plan.mask_assets)
        cube = decode_masks(stacked, plan, apply_masks=["cloud"])
        ref = terra_lab.load(items, bands=["red", "swir16"], resolution=20, bbox=BBOX, raw_masks=True,
                             apply_masks=["cloud"])
        assert set(cube.data_vars) == set(ref.data_vars) and cube.attrs.keys() == ref.attrs.keys()
    xr.testing.assert_identical(cube.drop_attrs(deep=False), ref.drop_attrs(deep=False))
    assert np.isnan(cube["red"].where(cube["cloud"])).all()


def test_plan_refuses_before_any_graph(items):
    with pytest.raises(ValueError, match="group_by='month'"):
        _plan(items, group_by="month")
    with pytest.raises(terra_lab.errors.RequestTooLargeError):
        _plan(items, max_bytes=1000)
