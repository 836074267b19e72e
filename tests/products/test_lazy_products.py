"""Every single-scene product stays lazy (dask) until it is written, so full tiles run in bounded memory.

An eager step (e.g. ``np.round`` on a dask-backed DataArray computes the whole band) turns the output into a
numpy array; benchmarks/memory.py measures the memory, this test catches the regression.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.memory import PRODUCT_INPUTS, SCENES, write_scene
from geo.grid import Grid
from ingest.catalog import Catalog
from products.build import item_grid, load_asset, load_inputs
from products.optical import scl_valid
from products.registry import get

SIZE = 256


class _Computes:
    """Counts dask computations started inside the block (``np.asarray`` of a dask array is one)."""

    def __enter__(self):
        from dask.callbacks import Callback

        outer = self
        self.n = 0

        class _CB(Callback):
            def _start(self, dsk):
                outer.n += 1

        self._cb = _CB()
        self._cb.__enter__()
        return self

    def __exit__(self, *exc):
        self._cb.__exit__(*exc)


@pytest.fixture(scope="module")
def bench_catalog(tmp_path_factory):
    d = tmp_path_factory.mktemp("lazy")
    ids = {key: write_scene(d, key, SIZE) for key in SCENES}
    cat = Catalog.open(f"sqlite:///{d / 'catalog.db'}")
    yield cat, d, ids
    cat.close()


@pytest.mark.parametrize("name", [n for n in PRODUCT_INPUTS if n != "shoreline"])
def test_outputs_are_lazy_and_on_the_input_grid(bench_catalog, name):
    cat, d, ids = bench_catalog
    alg = get(name)
    roles = {role: ids[key] for role, key in PRODUCT_INPUTS[name].items()}
    items = {role: cat.get_item(*ref) for role, ref in roles.items()}
    loaded, ref_grid, _ = load_inputs(alg, items, d, chunks=128)
    outputs = alg.run(loaded, alg.parse_params({}))
    assert set(outputs) == {o.asset for o in alg.outputs}
    for asset, da in outputs.items():
        assert hasattr(da.data, "dask"), f"{name}/{asset} was computed eagerly"
        assert Grid.from_dataarray(da) == ref_grid
        assert da.data.chunksize[0] <= 128 * 2  # chunked like its inputs, not one block


def test_scl_warped_by_nearest_neighbour_stays_lazy(bench_catalog):
    """The 20 m SCL read on the 10 m grid keeps its class codes (no bilinear mixing of 4 and 6 into 5)."""
    cat, d, ids = bench_catalog
    item = cat.get_item(*ids["s2-post"])
    ref = load_asset(item, "B03", d, chunks=128)
    assert item_grid(item, "SCL", d) != Grid.from_dataarray(ref)
    scl = load_asset(item, "SCL", d, chunks=128, like=Grid.from_dataarray(ref))
    assert hasattr(scl.data, "dask") and scl.shape == ref.shape
    values = np.unique(scl.values)
    assert set(values.tolist()) <= {4, 5, 6}  # codes of the synthetic classes only
    with _Computes() as c:
        ok = scl_valid(scl)
        from products.burn import _nbr_of

        nbr, _ = _nbr_of({b: load_asset(item, b, d, chunks=128, like=Grid.from_dataarray(ref)) for b in ("B8A", "B12", "SCL")}, "auto")
        from products.flood import ClassStats, water_posterior

        post = water_posterior(nbr, ClassStats(threshold=0.0, mean_water=-0.5, std_water=0.1, mean_land=0.5, std_land=0.1, fraction_water=0.5, eta=0.9))
    assert c.n == 0, "building the mask/index graph computed data eagerly"
    assert hasattr(post.data, "dask")
    assert hasattr(ok.data, "dask") and hasattr(nbr.data, "dask")
    assert bool(ok.all())
