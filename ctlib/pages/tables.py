"""Result tables: ours beside the paper's (:func:`compare`, :func:`styled`), the paper's
columns and baselines, Table I's scale note and the baseline-fidelity table, the
perovskite comparison."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ctlib import report

from ctlib.pages.common import CONTROLS, PENDING, fmt_mae, fmt_rel, fmt_signed


def compare(df: pd.DataFrame, paper: dict, by=("column", "target"), base: dict | None = None) -> pd.DataFrame:
    """Our mean ± std over seeds beside the paper's value, with the difference.

    Args:
        df: tidy experiment rows (``mae`` per seed; NaN for a run not stored yet).
        paper: ``{(column, target): paper value}``.
        base: optional ``{(column, target): (baseline column)}``; adds the
            relative change of the mean MAE against that baseline column.

    Returns:
        one row per ``by`` group with ``mean``, ``std``, ``n``, ``paper``,
        ``ours`` (``"0.0834 ± 0.0040 (n=3)"``, or ``"pending"`` when no run of
        the group is stored), ``ours - paper``, ``role`` (``"control"`` for the
        rows of :data:`CONTROLS`, ``"baseline"`` for a column other rows are
        compared with, else ``"paper"``) and, with ``base``, ``vs baseline``.
        Controls come last within each target.
    """
    by = list(by)
    s = report.beside_paper(report.summarize(df, by), paper, by)
    s["ours"] = [PENDING if int(r["n"]) == 0 else report.fmt_pm(r["mean"], r["std"], int(r["n"]), sig=3)
                 for _, r in s.iterrows()]
    baselines = set((base or {}).values())
    s["role"] = ["control" if r[by[0]] in CONTROLS else "baseline" if r[by[0]] in baselines else "paper"
                 for _, r in s.iterrows()]
    if base:
        rel = []
        for _, r in s.iterrows():
            b = base.get(tuple(r[c] for c in by))
            if b is None:
                rel.append(math.nan)
                continue
            sel = df[(df[by[1]] == r[by[1]]) & (df[by[0]] == b)]
            mb = sel["mae"].mean()
            rel.append((r["mean"] - mb) / mb if mb else math.nan)
        s["vs baseline"] = rel
    if len(by) > 1:
        # keep the groups of by[1] in first-seen order, controls last within each, else as built
        order = {t: i for i, t in enumerate(dict.fromkeys(s[by[1]]))}
        keys = {"_group": s[by[1]].map(order), "_control": (s["role"] == "control").astype(int),
                "_row": np.arange(len(s))}
        s = s.assign(**keys).sort_values(list(keys)).drop(columns=list(keys))
    return s.reset_index(drop=True)


def label_row(column: str) -> str:
    """The row label of a table: the column, and for a control what it is."""
    return f"{column} (control: {CONTROLS[column]})" if column in CONTROLS else str(column)


def styled(t: pd.DataFrame, digits: int = 3):
    """A compact display of a :func:`compare` table.

    MAEs with ``digits`` significant digits, relative columns in percent,
    ``pending`` for runs not stored yet, controls labelled and set in grey italics.
    """
    show = t.copy()
    if "column" in show:
        show["column"] = [label_row(c) for c in show["column"]]
    fmt = {c: (lambda x, d=digits: fmt_mae(x, d)) for c in ("paper", "mean", "std") if c in show}
    if "ours - paper" in show:
        fmt["ours - paper"] = lambda x, d=digits: fmt_signed(x, d)
    if "vs baseline" in show:
        fmt["vs baseline"] = fmt_rel
    cols = [c for c in show.columns if c not in ("mean", "std", "n", "role")]
    role = show["role"] if "role" in show else pd.Series("paper", index=show.index)

    def grey(row):
        css = "color: #666666; font-style: italic" if role.loc[row.name] == "control" else ""
        return [css] * len(row)

    return show[cols].style.format(fmt, na_rep="—").apply(grey, axis=1).hide(axis="index")



# ------------------------------------------------------------ the paper's columns
_T1_NAMES = {"cgcnn": "CGCNN", "megnet": "MEGNET", "alignn": "ALIGNN", "ct": "CrystalTransformer"}
_T_KEYS = {"II": "table2_frontend_backend", "III": "table3_cross_task", "IV": "table4_embedding_variants"}


def paper_values(table: str) -> dict:
    """``{(column, target): the paper's MAE}`` for our columns of Table I-IV.

    Table I: our model names; Table II: its front-back pairs and each back
    end's default start (``C default`` etc., the paper's Table I value); Tables
    III and IV: their columns. Controls and other starts have no paper value.
    """
    targets = ("E_f", "E_g")
    if table == "I":
        return {(m, t): report.paper_value("table1_models", n, f"MP-{t}") for m, n in _T1_NAMES.items()
                for t in targets}
    if table not in _T_KEYS:
        raise ValueError(f"no paper values for table {table!r}; use I, II, III or IV")
    key = _T_KEYS[table]
    out = {(c, t): report.paper_value(key, t, c) for c in report.paper_tables()[key]["columns"] for t in targets}
    if table == "II":
        for letter, m in (("C", "cgcnn"), ("M", "megnet"), ("A", "alignn")):
            for t in targets:
                out[(f"{letter} default", t)] = report.paper_value("table1_models", _T1_NAMES[m], f"MP-{t}")
    return out


def table1_scale(fronts: pd.DataFrame, ct: pd.DataFrame, epochs: dict) -> str:
    """Markdown: the test MAE of Table II's fronts beside CT's Table I run and the paper's Table I.

    For a profile that runs Table I for CT only (cpu); ``""`` when ``fronts`` is
    empty. No verdict: the fronts start from one-hot, train for their own epochs
    and have one seed (:func:`ctlib.experiments.table1_fronts`).

    Args:
        fronts, ct: rows of ``table1_fronts`` and ``table1`` (``column, target,
            mae``; several seeds are averaged and counted).
        epochs: training epochs by model, e.g. ``{"cgcnn": 30, "megnet": 20, "ct": 20}``.
    """
    if fronts.empty:
        return ""
    stat = report.summarize(pd.concat([fronts, ct], ignore_index=True), ["column", "target"])
    stat = stat[stat["n"] > 0].set_index(["column", "target"])      # stored runs only
    models = list(dict.fromkeys(stat.index.get_level_values("column")))
    paper = paper_values("I")
    label = {"cgcnn": "CGCNN (one-hot)", "megnet": "MEGNet (one-hot)", "alignn": "ALIGNN (one-hot)", "ct": "CT"}
    names = [f"{label[m]}, {epochs.get(m, '?')} epochs" for m in models]

    def cell(m, t):
        n = int(stat["n"].get((m, t), 0))
        ours = fmt_mae(stat["mean"].get((m, t))) + ("" if n == 1 else f" (n={n})")
        return f"{ours} ({fmt_mae(paper.get((m, t)))})"

    targets = dict.fromkeys(stat.index.get_level_values("target"))
    rows = [f"| {t} | " + " | ".join(cell(m, t) for m in models) + " |" for t in targets]
    seeds = "one seed each" if set(stat["n"]) == {1} else "one seed each where no n is given"
    return ("**For scale, not a verdict.** Table II's fronts train CGCNN and MEGNet on the same whole train "
            f"split, but from one-hot instead of their standard inputs and for their own epochs; {seeds}. "
            "Test MAE, ours (the paper's Table I):\n\n"
            "| target | " + " | ".join(names) + " |\n|:--|" + "--:|" * len(models) + "\n" + "\n".join(rows))


def baseline_fidelity(table1: pd.DataFrame, fronts: pd.DataFrame) -> pd.DataFrame:
    """How faithful each baseline is: our runs on the whole train split beside the paper's
    Table I and the original authors' published numbers.

    Args:
        table1, fronts: rows of :func:`ctlib.experiments.table1` and
            :func:`ctlib.experiments.table1_fronts` (``column`` = model, ``target``,
            ``mae``; several seeds are averaged). A model without a stored run reads
            *pending*; ALIGNN, which no cpu run trains on the whole split, *not run*.

    Returns:
        one row per (model, target): ``model``, ``target``, ``ours`` (mean, n and how it was
        trained), ``paper`` (Table I), ``published``, ``paper / published`` and ``source``.
    """
    both = pd.concat([d for d in (table1, fronts) if len(d)], ignore_index=True)
    stat = report.summarize(both, ["column", "table", "target"]) if len(both) else pd.DataFrame()
    names = {"cgcnn": "CGCNN", "megnet": "MEGNET", "alignn": "ALIGNN", "ct": "CrystalTransformer"}
    rows = []
    for model in ("cgcnn", "megnet", "alignn", "ct"):
        for target in ("E_f", "E_g"):
            mine = stat[(stat["column"] == model) & (stat["target"] == target) & (stat["n"] > 0)] \
                if len(stat) else stat
            if len(mine):
                r = mine.iloc[0]
                how = "from one-hot (Table II's front)" if r["table"] == "I (fronts)" else "its standard input"
                ours = f"{fmt_mae(r['mean'])} (n={int(r['n'])}; {how})"
            else:
                trained = len(both) and ((both["column"] == model) & (both["target"] == target)).any()
                ours = PENDING if trained else "not run on this profile"
            paper = report.paper_value("table1_models", names[model], f"MP-{target}")
            pub = report.published_baselines()["models"].get(model, {})
            rows.append({"model": names[model].replace("MEGNET", "MEGNet").replace("CrystalTransformer", "CT"),
                         "target": target, "ours": ours, "paper": fmt_mae(paper),
                         "published": fmt_mae(pub.get(target)) if target in pub else "— (the paper's own)",
                         "paper / published": f"{paper / pub[target]:.2f}×" if target in pub else "—",
                         "source": f"{pub['source']}; {pub['benchmark']}" if pub else "—"})
    return pd.DataFrame(rows)


def baselines(table: str, columns) -> dict:
    """``{(column, target): baseline column}`` for the *vs baseline* column of a page.

    Table II: each row against its back end's default start (``CT-C`` and
    ``CT0-C`` against ``C default``); Tables III and IV: against ``CGCNN``.
    """
    out = {}
    for c in dict.fromkeys(columns):
        c = str(c)
        if table == "II":
            back = (c.split("-", 1)[1] if c.startswith("CT0-") else c.split(" ")[0] if " " in c
                    else c.split("-")[-1])
            b = f"{back} default"
        elif table in ("III", "IV"):
            b = "CGCNN"
        else:
            raise ValueError(f"no baselines for table {table!r}")
        if b != c:
            out.update({(c, t): b for t in ("E_f", "E_g")})
    return out



def perovskite_comparison(df: pd.DataFrame) -> pd.DataFrame:
    """Each perovskite task: the plain model and the CT-embedding one, and the change.

    Args:
        df: :func:`ctlib.experiments.perovskites` rows.

    Returns:
        ``dataset``, ``target``, ``unit``, ``model`` (``C``, ``CT-C``, ``M``, ``CT-M``),
        ``n_train``, ``ours`` (mean ± std over seeds, or ``pending``), ``mean``,
        ``vs baseline`` (relative change of the CT row's mean from its plain model's).
    """
    s = report.summarize(df, ["dataset", "target", "column"])
    rows = []
    for (d, t), g in s.groupby(["dataset", "target"], sort=False):
        for _, r in g.iterrows():
            base = g[g["column"] == str(r["column"]).replace("CT-", "")]["mean"]
            b = float(base.iloc[0]) if len(base) else math.nan
            sel = df[(df["dataset"] == d) & (df["column"] == r["column"]) & (df["target"] == t)]
            rows.append({"dataset": d, "target": t,
                         "unit": str(sel["unit"].iloc[0]) if "unit" in sel and len(sel) else "",
                         "model": r["column"],
                         "n_train": int(sel["n_train"].iloc[0]) if "n_train" in sel and len(sel) else None,
                         "ours": PENDING if int(r["n"]) == 0 else report.fmt_pm(r["mean"], r["std"], int(r["n"]),
                                                                                sig=3),
                         "mean": r["mean"],
                         "vs baseline": ((r["mean"] - b) / b if str(r["column"]).startswith("CT-") and b
                                         and np.isfinite(b) else math.nan)})
    return pd.DataFrame(rows)


