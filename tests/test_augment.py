"""Augmentation (paper eqs. 10-12) yields the same crystal in another frame."""
import itertools

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure

from ctlib.data.augment import (CrystalAugment, apply_frame_ops, draw_frame_ops,
                                random_reflections, random_rotations)
from ctlib.data.dataset import CrystalDataset
from ctlib.data.collate import collate_ct
from ctlib.data.loader import make_loader


def _ds() -> CrystalDataset:
    structs = [
        Structure.from_spacegroup("Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"],
                                  [[0, 0, 0], [0.5, 0.5, 0.5]]),
        Structure(Lattice([[3.1, 0.0, 0.0], [2.7, 1.3, 0.0], [-0.9, 0.8, 2.6]]),
                  ["Li", "O", "Mn"], [[0.1, 0.2, 0.3], [0.55, 0.9, 0.15], [0.8, 0.4, 0.7]]),
        Structure(Lattice.cubic(2.9), ["Cu"], [[0.25, 0.5, 0.75]]),
        Structure(Lattice.hexagonal(2.5, 6.7), ["C"] * 4,
                  [[0, 0, 0.25], [0, 0, 0.75], [1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]]),
    ]
    return CrystalDataset.from_structures(structs,
                                          targets={"t": np.arange(len(structs), dtype=float)})


def periodic_distances(pos: np.ndarray, lattice: np.ndarray, cutoff: float = 6.0) -> list:
    """Per atom, the sorted distances (Å) to every periodic image within ``cutoff``."""
    pos, lattice = np.asarray(pos, float), np.asarray(lattice, float)
    imgs = np.array(list(itertools.product(range(-4, 5), repeat=3))) @ lattice
    out = []
    for p in pos:
        d = np.linalg.norm(pos[None, :, :] + imgs[:, None, :] - p, axis=-1).ravel()
        out.append(np.sort(d[(d > 1e-6) & (d < cutoff)]))
    return out


@pytest.fixture(scope="module")
def ds():
    return _ds()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("p", [1.0, 0.5])
def test_same_crystal_after_augmentation(ds, seed, p):
    batch = collate_ct(ds, [0, 1, 2, 3], ["t"])
    aug = CrystalAugment(p=p, max_shift=2)(batch, torch.Generator().manual_seed(seed))
    lat0 = batch.lattice.double().numpy()
    lat1 = aug.lattice.double().numpy()
    for b, n in enumerate(ds.natoms):
        before = periodic_distances(batch.pos[b, :n].numpy(), lat0[b])
        after = periodic_distances(aug.pos[b, :n].numpy(), lat1[b])
        for x, y in zip(before, after):
            np.testing.assert_allclose(x, y, atol=1e-4)
        # volume unchanged; fractional coordinates move by integers only
        assert abs(abs(np.linalg.det(lat1[b])) - abs(np.linalg.det(lat0[b]))) < 1e-3
        f0 = batch.pos[b, :n].double().numpy() @ np.linalg.inv(lat0[b])
        f1 = aug.pos[b, :n].double().numpy() @ np.linalg.inv(lat1[b])
        np.testing.assert_allclose(f1 - f0, np.rint(f1 - f0), atol=1e-4)
        # padding untouched
        assert (aug.pos[b, n:] == 0).all() and aug.mask[b, n:].all()
    assert torch.equal(aug.z, batch.z) and torch.equal(aug.mask, batch.mask)
    assert torch.equal(aug.y, batch.y)


def test_frame_is_really_changed(ds):
    batch = collate_ct(ds, [0, 1, 2, 3], ["t"])
    aug = CrystalAugment(p=1.0)(batch, torch.Generator().manual_seed(0))
    for b, n in enumerate(ds.natoms):
        assert not torch.allclose(aug.pos[b, :n], batch.pos[b, :n], atol=1e-3)
        assert not torch.allclose(aug.lattice[b], batch.lattice[b], atol=1e-3)
    same = CrystalAugment(p=0.0)(batch, torch.Generator().manual_seed(0))
    assert torch.equal(same.pos, batch.pos) and torch.equal(same.lattice, batch.lattice)


def test_matrices_are_rotations_and_reflections():
    g = torch.Generator().manual_seed(0)
    r = random_rotations(2000, g)
    eye = torch.eye(3, dtype=r.dtype)
    torch.testing.assert_close(r @ r.transpose(1, 2), eye.expand_as(r))
    torch.testing.assert_close(torch.linalg.det(r), torch.ones(2000, dtype=r.dtype))
    # uniform on SO(3): the rotated x axis is uniform on the sphere (mean ~ 0)
    assert r[:, :, 0].mean(0).abs().max() < 0.06
    m = random_reflections(500, g)
    torch.testing.assert_close(torch.linalg.det(m), -torch.ones(500, dtype=m.dtype))
    torch.testing.assert_close(m @ m, eye.expand_as(m))


def test_draws_follow_probabilities():
    g = torch.Generator().manual_seed(1)
    applied, shift, q = draw_frame_ops(4000, g, p=0.5, max_shift=1, reflect_p=0.5)
    det = torch.linalg.det(q)
    assert 0.45 < applied.float().mean() < 0.55
    assert (det[~applied] == 1).all() and (shift[~applied] == 0).all()
    assert 0.45 < (det[applied] < 0).float().mean() < 0.55       # reflections: det -1
    assert shift.min() == -1 and shift.max() == 1
    torch.testing.assert_close(det.abs(), torch.ones_like(det))


def test_reflection_flips_lattice_handedness(ds):
    batch = collate_ct(ds, [0, 1, 2, 3], ["t"])
    n = batch.z.shape[0]
    mirror = random_reflections(n, torch.Generator().manual_seed(0))
    out = apply_frame_ops(batch, torch.zeros(n, 3, dtype=torch.long), mirror)
    d0, d1 = torch.linalg.det(batch.lattice.double()), torch.linalg.det(out.lattice.double())
    torch.testing.assert_close(d1, -d0, rtol=1e-5, atol=1e-4)


def test_translation_is_a_lattice_vector(ds):
    batch = collate_ct(ds, [1, 2], ["t"])
    shift = torch.tensor([[1, -2, 0], [0, 0, 3]])
    out = apply_frame_ops(batch, shift, torch.eye(3, dtype=torch.float64).expand(2, 3, 3))
    t = (shift.double()[:, None, :] @ batch.lattice.double()).float()
    expect = torch.where(batch.mask[..., None], 0.0, batch.pos + t)
    torch.testing.assert_close(out.pos, expect, atol=1e-5, rtol=0)


def test_fresh_draws_each_call_and_epoch(ds):
    batch = collate_ct(ds, [0, 1, 2, 3], ["t"])
    aug = CrystalAugment(p=1.0)
    g = torch.Generator().manual_seed(5)
    a, b = aug(batch, g), aug(batch, g)
    assert not torch.allclose(a.pos, b.pos)
    c = aug(batch, torch.Generator().manual_seed(5))
    torch.testing.assert_close(a.pos, c.pos)                     # seeded
    loader = make_loader(ds, "ct", [0, 1, 2, 3], ["t"], batch_size=4, shuffle=False,
                         augment=CrystalAugment(p=1.0))
    loader.set_epoch(0)
    e0 = next(iter(loader)).pos
    assert torch.equal(next(iter(loader)).pos, e0)               # same epoch, same draws
    loader.set_epoch(1)
    assert not torch.allclose(next(iter(loader)).pos, e0)        # new epoch, new draws


@pytest.mark.parametrize("kw", [{"p": 1.5}, {"reflect_p": -0.1}, {"max_shift": -1},
                                {"max_shift": 1.5}, {"p": True}])
def test_rejects_bad_settings(kw):
    with pytest.raises(ValueError):
        CrystalAugment(**kw)
