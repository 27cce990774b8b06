"""The embedding zoo's reference tables: element tables learned by published models.

Two kinds, labelled so that no reader takes one for the other:

* **input tables** (``kind="input"``): the vector each atom starts from, learned
  with the model, the same object as CT's atom embedding or CGCNN's
  ``atom_init.json``. The data mirror holds seven of them in
  ``$CTLIB_DATA/element_tables/`` (read from the published weights; sources and
  licences in that folder's README). Each file's sha256 is pinned here and
  checked on load.
* **last-layer features** (``kind="last-layer"``): what the ``elementembeddings``
  package ships for the universal potentials CHGNet, SevenNet, MACE-MP-0 and
  ORB-v2 (per-element features read from the trained networks' later layers).

Each entry names the data the model saw, and what it saw of our MP-2018 test
materials (``saw``), in two grades:

* :data:`SAW_LABELS`: trained on our targets for our test materials (MP-2018.6.1
  formation energies; MP-2019.4.1 band gaps, a later release that holds most of
  them). ``sees_test`` is True: the table is a reference, never a contender.
* :data:`SAW_ENERGIES`: trained on a later Materials Project release (MPtrj and
  MPF.2021 are MP relaxations of 2021; MatPES samples MP structures) that holds
  most of our test materials with their DFT total energies, not our labels. It
  stays a contender on the chemistry probe and the perovskite transfer, whose
  test sets are not MP-2018's; on an MP-2018 test split (the learning curve) its
  gain may owe something to that exposure, and the pages say so.
"""
from __future__ import annotations

from dataclasses import dataclass

#: ``ReferenceTable.saw``: the model was trained on our labels of our test materials.
SAW_LABELS = "labels"
#: ``ReferenceTable.saw``: the model was trained on most of our test materials, with DFT
#: total energies from a later Materials Project release rather than our labels.
SAW_ENERGIES = "energies"
#: ``saw`` -> how a table states it (the zoo's column "saw our test materials").
SAW_WORDS = {SAW_LABELS: "yes, with our labels", SAW_ENERGIES: "most, with DFT energies (later MP)", "": "no"}
#: ``saw`` -> the words a table's label ends with ("" for none).
SAW_SUFFIX = {SAW_LABELS: ", saw our test labels", SAW_ENERGIES: ", saw most of our test materials", "": ""}


@dataclass(frozen=True)
class ReferenceTable:
    """One published element table.

    Attributes:
        name: the zoo's label (also the scarce-transfer start label).
        kind: ``"input"`` or ``"last-layer"``.
        model: the model it comes from.
        data: what that model was trained on.
        saw: what the model saw of our MP-2018 test materials: :data:`SAW_LABELS`,
            :data:`SAW_ENERGIES` or "" (none of them).
        file: CSV under ``$CTLIB_DATA/element_tables/`` (input tables), else None.
        sha256: the CSV's pinned sha256 (input tables).
        ee_name: the ``elementembeddings`` name (last-layer tables).
    """

    name: str
    kind: str
    model: str
    data: str
    saw: str
    file: str | None = None
    sha256: str | None = None
    ee_name: str | None = None

    def __post_init__(self):
        if self.saw not in SAW_WORDS:
            raise ValueError(f"reference table {self.name!r}: saw={self.saw!r}; choose one of {list(SAW_WORDS)}")

    @property
    def sees_test(self) -> bool:
        """The model was trained on our labels of our test materials: a reference, not a contender."""
        return self.saw == SAW_LABELS

    @property
    def label(self) -> str:
        """``name (kind; data[, saw our test labels | saw most of our test materials])`` for tables
        and legends."""
        return f"{self.name} ({self.kind}; {self.data}{SAW_SUFFIX[self.saw]})"


_INPUT = (
    ("CHGNet 0.3.0", "CHGNet 0.3.0", "MPtrj (1.5 M frames)", SAW_ENERGIES, "chgnet_0.3.0.csv",
     "2e275396aa4e1ac9c9b01a6bf11eca5af615f466e291132872b6120a7d6c8c27"),
    ("SevenNet-0", "SevenNet-0", "MPtrj (1.5 M frames)", SAW_ENERGIES, "sevennet_0.csv",
     "34b948630651e3f95a051981c3fd3cd730e2bd0d3ced9d62c4a13f1f0b55aaf0"),
    ("MEGNet MP-2018 E_f", "matgl MEGNet", "MP-2018.6.1 E_f", SAW_LABELS, "megnet_mp2018_eform.csv",
     "bab2d1a79cbce4ccf139accebef82502e0a446fbb7427d87f6d1b4daf05df61e"),
    ("M3GNet MP-2018 E_f", "matgl M3GNet", "MP-2018.6.1 E_f", SAW_LABELS, "m3gnet_mp2018_eform.csv",
     "1c3f8209c903a1bd534ff8b776705213040178a02f075757596b193cd7198acd"),
    ("M3GNet MP-2021 PES", "matgl M3GNet", "MP-2021.2.8 relaxations", SAW_ENERGIES, "m3gnet_mp2021_pes.csv",
     "6ebc6cd475a4a51588959914048d43cc7f85f2f988bcf6eeddb9ff3d9e0facec"),
    ("TensorNet MatPES", "matgl TensorNet", "MatPES-PBE 2025.1 (400 k)", SAW_ENERGIES,
     "tensornet_matpes_pbe_2025.1.csv",
     "74415ec8d788017e8e8ffc66e74d9f11e5b3a430b8b3521573b765f7239a20f9"),
    ("MEGNet MP-2019 E_g", "matgl MEGNet (multi-fidelity)", "MP-2019.4.1 band gaps", SAW_LABELS,
     "megnet_mp2019_bandgap_mfi.csv",
     "8ad15941da950b96b60bd7234a77bb4f193f7b6841b87f40db963612a9040d9c"),
)
#: All four potentials trained on MPtrj (ORB-v2 also on Alexandria): SAW_ENERGIES.
_LAST_LAYER = (
    ("CHGNet (last layer)", "CHGNet", "MPtrj (1.5 M frames)", "chgnet"),
    ("SevenNet (last layer)", "SevenNet", "MPtrj (1.5 M frames)", "sevennet"),
    ("MACE-MP-0 (last layer)", "MACE-MP-0", "MPtrj (1.5 M frames)", "mace_mp0"),
    ("ORB-v2 (last layer)", "ORB-v2", "MPtrj + Alexandria", "orb_v2"),
)

#: name -> ReferenceTable, input tables first (the order of the zoo's tables).
#: MP-2019.4.1 holds most MP-2018.6.1 materials, so the band-gap model saw our E_g labels too.
TABLES: dict[str, ReferenceTable] = {
    **{n: ReferenceTable(n, "input", m, d, saw, file=f, sha256=s) for n, m, d, saw, f, s in _INPUT},
    **{n: ReferenceTable(n, "last-layer", m, d, SAW_ENERGIES, ee_name=e) for n, m, d, e in _LAST_LAYER},
}


def get(name: str) -> ReferenceTable:
    """The entry ``name``; a clear error lists the known names."""
    try:
        return TABLES[name]
    except KeyError:
        raise ValueError(f"unknown reference table {name!r}; choose one of {list(TABLES)}") from None


def load(name: str):
    """The :class:`~ctlib.embeddings.ElementEmbedding` of reference table ``name``.

    Input tables are read from ``$CTLIB_DATA/element_tables/<file>`` after their
    sha256 is checked; last-layer tables from the installed ``elementembeddings``
    (nothing is downloaded). The table's provenance carries its kind, model,
    training data and leakage flag.

    Raises:
        FileNotFoundError / ValueError: naming the file, what is wrong and what to do.
    """
    from ctlib.embeddings import ElementEmbedding

    t = get(name)
    if t.kind == "last-layer":
        emb = ElementEmbedding.from_elementembeddings(t.ee_name)
    else:
        from ctlib.data.io import sha256_file
        from ctlib.data.registry import data_root

        path = data_root() / "element_tables" / t.file
        if not path.is_file():
            raise FileNotFoundError(f"reference table {name!r}: {path} not found; set CTLIB_DATA to "
                                    f"the data mirror that holds element_tables/ (see book/data.md)")
        got = sha256_file(path)
        if got != t.sha256:
            raise ValueError(f"reference table {name!r}: {path} has sha256 {got[:16]}..., expected "
                             f"{t.sha256[:16]}...; the file changed: fetch it again from the mirror")
        emb = ElementEmbedding.load(path)
    emb.provenance.update({"method": "reference", "reference": t.name, "kind": t.kind,
                           "model": t.model, "data": t.data, "sees_test": t.sees_test, "saw": t.saw})
    return emb
