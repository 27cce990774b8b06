"""Verdict bookkeeping: the rule decides from seed spreads, not from hopes."""
import math

import pandas as pd
import pytest

from ctlib import report


def test_paper_values_are_the_transcribed_ones():
    assert report.paper_value("table1_models", "CGCNN", "MP-E_f") == 0.083
    assert report.paper_value("table2_frontend_backend", "E_g", "CT-A") == 0.256


@pytest.mark.parametrize(
    "base, var, direction, expected",
    [
        ([0.10, 0.101, 0.099], [0.080, 0.081, 0.079], "lower", report.REPRODUCED),
        ([0.080, 0.081, 0.079], [0.10, 0.101, 0.099], "lower", report.NOT_REPRODUCED),
        ([0.10, 0.12, 0.08], [0.099, 0.118, 0.081], "lower", "inconclusive (within seed spread)"),
        ([0.10, 0.101, 0.099], [0.080, 0.081, 0.079], "higher", report.NOT_REPRODUCED),
    ],
)
def test_verdict_rule(base, var, direction, expected):
    assert report.verdict(base, var, direction)["verdict"] == expected


def test_single_seed_is_never_called_reproduced():
    v = report.verdict([0.1], [0.05], "lower")
    assert v["verdict"].startswith(report.INCONCLUSIVE) and "same direction" in v["verdict"]
    assert math.isclose(v["rel"], -0.5)


def test_summarize_and_beside_paper():
    df = pd.DataFrame({"model": ["a", "a", "b"], "seed": [0, 1, 0], "mae": [1.0, 3.0, 2.0]})
    s = report.summarize(df, ["model"])
    assert s.set_index("model").loc["a", "mean"] == 2.0 and s.set_index("model").loc["b", "n"] == 1
    t = report.beside_paper(s, {("a",): 1.5}, ["model"])
    assert t.set_index("model").loc["a", "ours - paper"] == pytest.approx(0.5)
    assert t.set_index("model").loc["a", "ours"] == "2.000 ± 1.414 (n=2)"
    assert math.isnan(t.set_index("model").loc["b", "ours - paper"])
