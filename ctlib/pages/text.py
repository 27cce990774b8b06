"""The top of a result page: the headline table of claims and verdicts, the budget note
saying where the profile differs from the paper, the direction tables of comparisons the
paper gives no number for, and the claims page's summary line."""
from __future__ import annotations


import numpy as np
import pandas as pd

from ctlib import report

from ctlib.pages.common import PENDING, _md, _n, fmt_rel


def _change(r) -> str:
    m = r.get("rel_mean")
    if m is None or not np.isfinite(float(m)):
        return "—"
    lo, hi = r.get("rel_lo"), r.get("rel_hi")
    if lo is None or not np.isfinite(float(lo)):
        return f"{fmt_rel(m)} (1 seed, no interval)"
    return f"{fmt_rel(m)} [{fmt_rel(lo)}, {fmt_rel(hi)}]"


#: How a direction table answers its question, by verdict (the rest read as the verdict).
ANSWERS = {report.REPRODUCED: "yes", report.CONTRADICTED: "no: it raises it", report.MISSING: PENDING}


def direction_table(v: pd.DataFrame, question: str, *, group: str = "dataset",
                    group_title: str = "data set", group_labels: dict | None = None):
    """A comparison that is not a claim of the paper, as a table that answers ``question``.

    Args:
        v: :func:`ctlib.analysis.transfer.paired_verdicts` rows judged in the
            direction "lower MAE" (``<group>, claim, verdict, mean_rel,
            rel_lo, rel_hi, n_seeds``).
        question: the answer column's title, e.g. "pretraining lowers the MAE?".
        group, group_title, group_labels: the group column of ``v``, its title
            and display names for its values.

    Returns:
        a Styler, one row per comparison: "yes" where the 95 % interval of the
        per-seed change lies below 0, "no: it raises it" where above, "pending"
        while a run is not stored, else the verdict (inconclusive, ...), with the mean change, its
        interval and the seeds.
    """
    labels = group_labels or {}
    return pd.DataFrame({
        group_title: [labels.get(d, d) for d in v[group]],
        "comparison": v["claim"],
        question: [ANSWERS.get(x, x) for x in v["verdict"]],
        "our change (mean)": [fmt_rel(x) for x in v["mean_rel"]],
        "95% interval": [f"[{fmt_rel(a)}, {fmt_rel(b)}]" if np.isfinite(a) else "—"
                         for a, b in zip(v["rel_lo"], v["rel_hi"])],
        "seeds": v["n_seeds"],
    }).style.hide(axis="index")


def direction_reading(v: pd.DataFrame, subject: str, pairs: str) -> str:
    """One Markdown sentence counting the answers of a :func:`direction_table`, e.g.
    "**Reading.** Pretraining lowers the MAE in 4 and raises it in 1 of the 6 (target,
    table) pairs judged; the other interval contains 0.", or "... lowers the MAE in all 6
    (target, table) pairs judged." (a count of 0 is left out). Empty while none is judged."""
    judged = v[v["verdict"].isin([report.REPRODUCED, report.CONTRADICTED, report.INCONCLUSIVE])]
    if not len(judged):
        return ""
    n = len(judged)
    lower = int((judged["verdict"] == report.REPRODUCED).sum())
    higher = int((judged["verdict"] == report.CONTRADICTED).sum())
    rest = n - lower - higher
    for count, verb in ((lower, "lowers"), (higher, "raises")):
        if count == n:
            where = f"all {n} {pairs}" if n > 1 else "the one comparison"
            return f"**Reading.** {subject} {verb} the MAE in {where} judged."
    if not lower and not higher:
        return f"**Reading.** Every one of the {n} {pairs} judged has an interval that contains 0."
    done = (f"lowers the MAE in {lower} and raises it in {higher}" if lower and higher else
            f"lowers the MAE in {lower}" if lower else f"raises the MAE in {higher}")
    return f"**Reading.** {subject} {done} of the {n} {pairs} judged{report.others_contain_zero(rest)}."


def headline(verdicts, profile: str, *, budget: str | None = None, lead: str | None = None) -> str:
    """The opening of a results page: the paper's claims, our numbers and the verdicts.

    Args:
        verdicts: rows of :func:`ctlib.claims.judge` (paired claims: adds our
            relative change with its 95 % interval) or of
            :func:`ctlib.claims.judge_k3` / :func:`ctlib.claims.judge_r2`
            (``claim``, ``paper``, ``ours``, ``verdict``): a DataFrame or list of dicts.
        profile: the profile the numbers come from (named in the table).
        budget: :func:`budget_note` text, printed under the table.
        lead: a sentence before the table.

    Returns:
        Markdown. ``missing`` verdicts read ``pending``.
    """
    from ctlib.claims import NOT_RUN as _NOT_RUN, PENDING as _P, shown_verdict

    rows = verdicts.to_dict("records") if isinstance(verdicts, pd.DataFrame) else list(verdicts)
    paired = any("rel_mean" in r for r in rows)
    head = ["Claim (paper)", "Paper", f"Ours (profile `{profile}`)"]
    if paired:
        head.append("Our change of the MAE [95% interval]")
    head.append("Verdict")
    if lead is None:
        lead = ("**What the paper claims here, what we find, and the verdict** (one rule for every claim: "
                "the paired relative change over seeds and its 95% interval; see the claims page)."
                if paired else "**What the paper claims here, what we find, and the verdict** (the rule "
                "is stated on the claims page).")
    out = [lead, "",
           "| " + " | ".join(head) + " |", "|" + "|".join([":--"] * len(head)) + "|"]
    for r in rows:
        v = shown_verdict(r)   # the word says the effect size too (weaker / stronger / not reproduced)
        ours = v if v == _P else "—" if v == _NOT_RUN else r.get("ours", "—")
        if r.get("fronts") and v not in (_P, _NOT_RUN):
            ours += f" ({r['fronts']})"   # two fronts' tables compared: each front's own accuracy
        cells = [r.get("claim", ""), r.get("paper", "—"), ours]
        if paired:
            cells.append(_change(r))
        cells.append(f"**{v}**")
        out.append("| " + " | ".join(_md(c) for c in cells) + " |")
    if budget:
        out += ["", budget]
    return "\n".join(out)



def _stop_rule(p, epochs: str) -> str:
    """``epochs`` (text) and the profile's stopping rule, in words."""
    if p.patience is None:
        return f"{epochs} epochs, the whole learning-rate schedule, keeping the epoch of lowest validation MAE"
    return f"at most {epochs} epochs, early stopping after {p.patience} epochs without progress"


def budget_note(profile: str, table: str, *, df: pd.DataFrame | None = None) -> str:
    """Where the profile's budget differs from the paper's, for one table (Markdown, one paragraph).

    Every number is read from the profile (:mod:`ctlib.config`), the data
    (sizes of the splits) or ``df``; the paper's schedule is the ``paper``
    profile's. ``table``: ``"I"``, ``"II"``, ``"III"``, ``"IV"``, ``"perovskites"``
    or ``"embedding"`` (pages 07/08).
    """
    from ctlib import data, experiments
    from ctlib.config import get_profile

    p, P = get_profile(profile), get_profile("paper")
    parts = []
    if table in ("I", "II", "III", "IV"):
        counts = data.benchmark_counts("mp2018")
        full = counts["with_structure"]["train"]
        parts.append(f"data: MP-2018, the {counts['with_structure']['total'] / counts['benchmark']['total']:.0%} "
                     f"subset with current MP structures ({_n(full)} of the {_n(counts['benchmark']['train'])} "
                     f"training materials)")
        _, split = experiments.mp_data(p)
        models = ("cgcnn", "megnet", "alignn", "ct") if table == "I" else ("cgcnn",)
        sizes = {m: len(experiments.model_split(split, m, p)["train"]) for m in models}
        if any(n < full for n in sizes.values()):
            what = "CGCNN back ends" if table != "I" else "models"
            each = (_n(sizes["cgcnn"]) if len(set(sizes.values())) == 1
                    else ", ".join(f"{m} {_n(n)}" for m, n in sizes.items()))
            parts.append(f"{what} train on **{each} of the {_n(full)}** training structures (the paper: "
                         "the whole training split)")
        ep = {m: experiments.train_config(m, p)["epochs"] for m in models}
        ep_paper = {m: P.epochs[m] for m in models}
        if ep != ep_paper:
            def each(e):
                return (str(e[models[0]]) if len(models) == 1
                        else ", ".join(f"{e[m]} ({experiments.MODEL_LETTER[m]})" for m in models))
            parts.append(f"{_stop_rule(p, each(ep))} (the `paper` profile: {each(ep_paper)})")
        if table in ("II", "III", "IV"):
            ct1 = experiments.train_config("ct", p, 1, front=True)["epochs"]
            ctm = experiments.train_config("ct", p, 2, front=True)["epochs"]
            fr = "front ends pretrained on the MP-2018 training split instead of MP*"
            if {ct1, ctm} != {P.epochs["ct"]}:
                fr += f" (CT: {ct1} epochs" + (f", multi-task {ctm}" if ctm != ct1 else "")
                fr += f"; the `paper` profile: {P.epochs['ct']})"
            if p.campaign.front_seed is not None:
                fr += f", once (seed {p.campaign.front_seed}) for every back-end seed"
            parts.append(fr)
    elif table == "perovskites":
        parts.append(f"{_n(p.perovskite_n)} Castelli perovskites instead of the paper's merged HOIP + "
                     "Pb-free set")
        scarce = p.campaign.perovskites_from_scarce
        seeds, ep = experiments.scarce_schedule(p) if scarce else (p.seeds, p.epochs["cgcnn"])
        if ep != P.epochs["cgcnn"]:
            parts.append(f"{_stop_rule(p, str(ep))} (the `paper` profile: {P.epochs['cgcnn']})")
        parts.append("the CT embedding pretrained on the MP-2018 training split instead of MP*")
        if scarce:
            parts.append(f"the rows are the CGCNN runs of the data-scarce transfer ({len(seeds)} seeds; its "
                         "`cgcnn92` and `CT E_f` starts): MEGNet, the HOIP gap and Matbench's folds "
                         "are not run on this profile")
    elif table == "embedding":
        parts.append("the CT table pretrained on the MP-2018 training split instead of MP*")
        ctm = experiments.train_config("ct", p, 2, front=True)["epochs"]
        if ctm != P.epochs["ct"]:
            parts.append(f"multi-task CT pretraining for {ctm} epochs (the `paper` profile: {P.epochs['ct']})")
    else:
        raise ValueError(f"unknown table {table!r}")
    if len(p.seeds) != len(P.seeds):
        parts.append(f"{len(p.seeds)} training seed{'s' if len(p.seeds) != 1 else ''} (the `paper` "
                     f"profile: {len(P.seeds)})")
    if p.tiny:
        parts.append("tiny model widths (a test of the pipeline, not of the paper)")
    return f"*Budget of profile `{profile}`, where it differs from the paper:* " + "; ".join(parts) + "."


def page_top(df: pd.DataFrame, profile: str, table: str, **kw) -> tuple[pd.DataFrame, str]:
    """Verdicts of ``table``'s claims on ``df`` and the Markdown that opens the page.

    Returns:
        ``(verdicts, markdown)``: :func:`ctlib.claims.judge` on the claims of
        ``table``, and :func:`headline` with :func:`budget_note`.
    """
    from ctlib import claims

    v = claims.judge(df, claims.claims_for(table))
    return v, headline(v, profile, budget=budget_note(profile, table, df=df), **kw)



def verdict_summary(verdicts: pd.DataFrame, interp: pd.DataFrame | None, profile: str) -> str:
    """The opening sentence of the claims page: how many claims got which verdict (Markdown)."""
    from ctlib.claims import shown_verdict

    def counts(df):
        c = pd.Series([shown_verdict(r) for r in df.to_dict("records")]).value_counts()
        return ", ".join(f"**{n}** {v}" for v, n in c.items())

    out = (f"On profile `{profile}`, the {len(verdicts)} claims judged from our tables: "
           f"{counts(verdicts)}.")
    if interp is not None and len(interp):
        out += f" The {len(interp)} interpretability claims (pages 07 and 08): {counts(interp)}."
    return out


