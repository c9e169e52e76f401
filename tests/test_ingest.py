"""Ingest of the real THEIA sample (../shared/data/theia-zonetest) into a local catalogue."""

import numpy as np
import pandas as pd
import pystac
import pytest
import shapely.geometry
from pyproj import Transformer

from terra_lab.catalog._theia_items import item_from_product
from terra_lab.errors import AssetReadError


def test_every_product_with_data_is_indexed(zonetest_catalog):
    res = zonetest_catalog.search(collections="ZONETEST")
    assert len(res) == 97  # 187 products, 90 entirely outside the swath
    it = res[0]
    pystac.Item.from_dict(it)
    assert it["properties"]["theia:tile"] == "T31UFQ" and it["properties"]["proj:epsg"] == 32631
    assert {"FRE_B2", "FRE_B3", "FRE_B4", "FRE_B8A", "FRE_B11", "FRE_B12", "CLM_R2"} <= set(it["assets"])
    assert it["assets"]["FRE_B2"]["proj:shape"] == [80, 80] and it["assets"]["FRE_B11"]["proj:shape"] == [40, 40]
    assert it["assets"]["FRE_B8A"]["eo:bands"][0]["common_name"] == "nir08"


def test_footprints_are_the_published_bounds(zonetest_catalog):
    tr = Transformer.from_crs(4326, 32631, always_xy=True)
    for it in zonetest_catalog.search(collections="ZONETEST", dates="2018"):
        geom = shapely.geometry.shape(it["geometry"])
        x, y = tr.transform(*np.array(geom.exterior.coords).T)
        assert min(x) == pytest.approx(670540, abs=1) and max(x) == pytest.approx(671340, abs=1)
        assert min(y) == pytest.approx(5460700, abs=1) and max(y) == pytest.approx(5461500, abs=1)


def test_cloud_cover_agrees_with_fordead_ennuagement(zonetest_catalog, zonetest_dir):
    """fordead's Ennuagement.csv: fraction of CLM_R2 > 0 among in-swath pixels (2.0 = no data)."""
    ref = pd.read_csv(next(zonetest_dir.rglob("Ennuagement.csv")), index_col=0).iloc[:, 0]
    ref.index = pd.to_datetime(ref.index).strftime("%Y-%m-%d")
    ref = ref[ref <= 1.0]
    ours = pd.Series({it["properties"]["datetime"][:10]: it["properties"]["eo:cloud_cover"] / 100 for it in
                      zonetest_catalog.search(collections="ZONETEST")})
    both = pd.concat([ours, ref], axis=1, join="inner").dropna()
    assert len(both) == 97
    r = np.corrcoef(both.iloc[:, 0], both.iloc[:, 1])[0, 1]
    assert r >= 0.99, r


def test_not_a_product_folder(tmp_path):
    (tmp_path / "holiday_photos").mkdir()
    with pytest.raises(AssetReadError, match="not a THEIA L2A product name"):
        item_from_product(tmp_path / "holiday_photos", collection="x")


@pytest.mark.parametrize("xml, expected", [
    # MUSCATE's overall mean
    ("<Mean_Value_List><Incidence_Angles><ZENITH_ANGLE unit='deg'>5.5</ZENITH_ANGLE>"
     "<AZIMUTH_ANGLE unit='deg'>104</AZIMUTH_ANGLE></Incidence_Angles></Mean_Value_List>", (5.5, 104.0)),
    # per band only: the mean zenith, the azimuths averaged as directions (350 and 10 -> 0, not 180)
    ("<Mean_Viewing_Incidence_Angle_List>"
     "<Mean_Viewing_Incidence_Angle band_id='B2'><ZENITH_ANGLE>4</ZENITH_ANGLE><AZIMUTH_ANGLE>350</AZIMUTH_ANGLE>"
     "</Mean_Viewing_Incidence_Angle><Mean_Viewing_Incidence_Angle band_id='B3'><ZENITH_ANGLE>6</ZENITH_ANGLE>"
     "<AZIMUTH_ANGLE>10</AZIMUTH_ANGLE></Mean_Viewing_Incidence_Angle></Mean_Viewing_Incidence_Angle_List>", (5.0, 0.0)),
    ("<Sun_Angles><ZENITH_ANGLE>40</ZENITH_ANGLE><AZIMUTH_ANGLE>150</AZIMUTH_ANGLE></Sun_Angles>", None),
])
def test_metadata_view_angles_in_every_muscate_variant(xml, expected):
    """The view angles the biophysical networks need: ``view:incidence_angle`` / ``view:azimuth``
    from the mean incidence angles, else from the per-band list; nothing when neither is given."""
    import xml.etree.ElementTree as ET

    from terra_lab.catalog._theia_items import _view_angles

    got = _view_angles(ET.fromstring(f"<Muscate_Metadata_Document><Geometric_Informations>{xml}"
                                     "</Geometric_Informations></Muscate_Metadata_Document>"))
    if expected is None:
        assert got == {}
    else:
        assert got["view:incidence_angle"] == pytest.approx(expected[0])
        assert min(got["view:azimuth"], 360 - got["view:azimuth"]) == pytest.approx(expected[1], abs=1e-6) \
            if expected[1] == 0 else got["view:azimuth"] == pytest.approx(expected[1])
