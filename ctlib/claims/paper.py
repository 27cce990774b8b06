"""Every quantitative claim of the paper (:data:`CLAIMS`): which of our tables and columns
test it, and the paper's two numbers; the claims that cannot be tested offline."""
from __future__ import annotations

from dataclasses import dataclass

from ctlib import report


@dataclass(frozen=True)
class Claim:
    """One claim: in ``table``/``target``, ``variant`` vs ``baseline`` (MAE).

    ``paper_base`` / ``paper_var`` are the paper's numbers; ``paper_rel`` is
    the relative change they make, whose sign is the claimed direction.
    """

    id: str
    text: str
    table: str
    target: str
    baseline: str
    variant: str
    paper_base: float
    paper_var: float
    dataset: str | None = None

    @property
    def paper_rel(self) -> float:
        return (self.paper_var - self.paper_base) / self.paper_base


def _paper(table, row, col):
    """The paper's number in ``row``/``col`` of one of its tables (``ctlib/paper_tables.json``)."""
    return report.paper_value(table, row, col)


def _claims() -> list[Claim]:
    t1, t2, t3, t4 = ("table1_models", "table2_frontend_backend", "table3_cross_task",
                      "table4_embedding_variants")
    out = []
    for tg, col in (("E_f", "MP-E_f"), ("E_g", "MP-E_g")):
        out += [
            Claim(f"I-ct-vs-cgcnn-{tg}", f"CT alone is less accurate than CGCNN on {tg}", "I", tg,
                  "cgcnn", "ct", _paper(t1, "CGCNN", col), _paper(t1, "CrystalTransformer", col)),
            Claim(f"I-megnet-vs-cgcnn-{tg}", f"MEGNet beats CGCNN on {tg}", "I", tg, "cgcnn", "megnet",
                  _paper(t1, "CGCNN", col), _paper(t1, "MEGNET", col)),
            Claim(f"I-alignn-vs-cgcnn-{tg}", f"ALIGNN beats CGCNN on {tg}", "I", tg, "cgcnn", "alignn",
                  _paper(t1, "CGCNN", col), _paper(t1, "ALIGNN", col)),
        ]
    for tg in ("E_f", "E_g"):
        col1 = "MP-" + tg
        out += [
            Claim(f"II-CT-C-{tg}", f"CT embeddings improve CGCNN on {tg} (CT-C vs CGCNN)", "II", tg,
                  "C default", "CT-C", _paper(t1, "CGCNN", col1), _paper(t2, tg, "CT-C")),
            Claim(f"II-CT-M-{tg}", f"CT embeddings improve MEGNet on {tg} (CT-M vs MEGNet)", "II", tg,
                  "M default", "CT-M", _paper(t1, "MEGNET", col1), _paper(t2, tg, "CT-M")),
            Claim(f"II-CT-A-{tg}", f"CT embeddings improve ALIGNN on {tg} (CT-A vs ALIGNN)", "II", tg,
                  "A default", "CT-A", _paper(t1, "ALIGNN", col1), _paper(t2, tg, "CT-A")),
        ]
        for front in ("C", "M", "A"):
            out.append(Claim(f"II-CT-beats-{front}-C-{tg}",
                             f"CT's embedding transfers better than {front}'s into CGCNN on {tg}", "II", tg,
                             f"{front}-C", "CT-C", _paper(t2, tg, f"{front}-C"), _paper(t2, tg, "CT-C")))
    out += [
        Claim("III-Eg-to-Ef", "Embeddings pretrained on E_g improve CGCNN on E_f (cross-task)", "III", "E_f",
              "CGCNN", "CGCNN(E_g)", _paper(t3, "E_f", "CGCNN"), _paper(t3, "E_f", "CGCNN(E_g)")),
        Claim("III-Ef-to-Eg", "Embeddings pretrained on E_f improve CGCNN on E_g (cross-task)", "III", "E_g",
              "CGCNN", "CGCNN(E_f)", _paper(t3, "E_g", "CGCNN"), _paper(t3, "E_g", "CGCNN(E_f)")),
    ]
    for tg in ("E_f", "E_g"):
        single = "CGCNN(E_f)" if tg == "E_f" else "CGCNN(E_g)"
        out += [
            Claim(f"III-mt-{tg}", f"Multi-task CT embeddings improve CGCNN on {tg}", "III", tg, "CGCNN",
                  "CGCNN(mt)", _paper(t3, tg, "CGCNN"), _paper(t3, tg, "CGCNN(mt)")),
            Claim(f"III-mt-vs-single-{tg}", f"Multi-task embeddings beat the same-task ones on {tg}", "III", tg,
                  single, "CGCNN(mt)", _paper(t3, tg, single), _paper(t3, tg, "CGCNN(mt)")),
            Claim(f"IV-coords-{tg}", f"Adding CT's coordinate embedding hurts CGCNN on {tg}", "IV", tg,
                  "CGCNN(E_a)", "CGCNN(E_a+E_c)", _paper(t4, tg, "CGCNN(E_a)"),
                  _paper(t4, tg, "CGCNN(E_a+E_c)")),
            Claim(f"IV-frozen-vs-trainable-{tg}", f"Frozen embeddings are slightly worse than fine-tuned on {tg}",
                  "IV", tg, "CGCNN(E_a)", "CGCNN(E_a^f)", _paper(t4, tg, "CGCNN(E_a)"),
                  _paper(t4, tg, "CGCNN(E_a^f)")),
            Claim(f"IV-frozen-vs-base-{tg}", f"Frozen CT embeddings still beat plain CGCNN on {tg}", "IV", tg,
                  "CGCNN", "CGCNN(E_a^f)", _paper(t4, tg, "CGCNN"), _paper(t4, tg, "CGCNN(E_a^f)")),
        ]
    from ctlib.experiments import HEADLINE_TABLE, MATCHED_TABLE

    for tg in ("E_f", "E_g"):   # Table III's again, each back end from its own pretraining seed
        out.append(Claim(f"III-mt-own-front-{tg}", f"Multi-task CT embeddings improve CGCNN on {tg}, "
                         "each back-end seed from the table of its own pretraining seed", MATCHED_TABLE, tg,
                         "CGCNN", "CGCNN(mt)", _paper(t3, tg, "CGCNN"), _paper(t3, tg, "CGCNN(mt)")))
    for tg in ("E_f", "E_g"):   # the headline again, with the back end on the whole train split
        out.append(Claim(f"III-mt-whole-split-{tg}", f"Multi-task CT embeddings improve CGCNN on {tg}, "
                         "with the back end on the whole train split (the paper's size)", HEADLINE_TABLE, tg,
                         "CGCNN", "CGCNN(mt)", _paper(t3, tg, "CGCNN"), _paper(t3, tg, "CGCNN(mt)")))
    perovskite = report.paper_tables()["perovskite_formation_energy"]
    out.append(Claim("perovskite-CT-C", "CT embeddings improve CGCNN on scarce perovskite formation energies "
                     "(paper: merged HOIP + Pb-free set; ours: 3,334 Castelli perovskites)", "perovskites",
                     "e_form_per_atom", "C", "CT-C", perovskite["CGCNN"], perovskite["CT-CGCNN"],
                     dataset="castelli-3334"))
    return out


CLAIMS: list[Claim] = _claims()


def jarvis_claims() -> list[Claim]:
    """Table V's claims (CT-C vs CGCNN on JARVIS-DFT): judged by page 09 only when the user
    supplies a ``dft_3d`` file, so they are not part of :data:`CLAIMS`."""
    t5 = "table5_jarvis"
    return [Claim(f"V-CT-C-{tg}", f"CT embeddings improve CGCNN on JARVIS-DFT {tg}", "V", tg, "CGCNN", "CT-C",
                  _paper(t5, tg, "CGCNN"), _paper(t5, tg, "CT-C")) for tg in ("E_f", "E_g")]


def untested(claims: list[Claim], reason: str) -> list[dict]:
    """Rows for :func:`ctlib.pages.headline` of claims that cannot be run here (verdict
    ``not testable offline``), with the paper's numbers."""
    return [{"claim": c.text, "paper": f"{c.paper_base:g} → {c.paper_var:g} ({100 * c.paper_rel:+.0f}%)",
             "ours": f"— ({reason})", "verdict": report.NOT_TESTABLE} for c in claims]

NOT_TESTABLE = [
    ("Table I, MP* columns", "MP* (134,243 materials of a later MP release, with labels) is not in the "
     "offline data mirror."),
    ("Table V (JARVIS-DFT)", "JARVIS-DFT 2021.8.18 structures are not in the offline mirror; the notebook "
     "runs when the user provides a jarvis-tools dft_3d file."),
    ("Pretraining on MP*", "Replaced by pretraining on the MP-2018 train split (test materials excluded)."),
    ("Perovskite set of 3,334 merged structures", "The Pb-free set of Nakajima & Sawada (2017) could not be "
     "had; we use 3,334 sampled Castelli perovskites and, separately, HOIP."),
]


def claims_for(table: str, target: str | None = None, claims: list[Claim] = CLAIMS) -> list[Claim]:
    """The claims of one table (``"I"``, ``"II"``, ``"III"``, ``"IV"``, ``"perovskites"``).

    Raises:
        ValueError: for a table without claims.
    """
    out = [c for c in claims if c.table == table and (target is None or c.target == target)]
    if not out:
        raise ValueError(f"no claim for table {table!r}" + (f", target {target!r}" if target else "")
                         + f"; tables with claims: {sorted({c.table for c in claims})}")
    return out
