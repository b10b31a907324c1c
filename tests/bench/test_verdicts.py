"""Who wins, who ties and which target is met, on constructed results over seeds."""

import math

import pytest

from solo_tricl.bench.verdicts import Estimate, apart, estimate, target_line, target_verdict, verdict
from solo_tricl.common.thresholds import Target


def test_an_estimate_is_the_mean_and_sample_spread_of_what_was_measured():
    e = estimate([0.70, 0.72, 0.74])
    assert e.mean == pytest.approx(0.72) and e.spread == pytest.approx(0.02) and e.n == 3
    assert estimate([0.5, None, float("nan")]) == Estimate(0.5, 0.0, 1)
    assert estimate([None]).n == 0 and math.isnan(estimate([]).mean)
    assert estimate([0.70, 0.74]).text() == "0.720 ± 0.028" and estimate([0.7]).text() == "0.700"


def test_two_results_differ_only_outside_the_sum_of_their_spreads():
    assert apart(Estimate(0.80, 0.01, 3), Estimate(0.77, 0.01, 3))
    assert not apart(Estimate(0.80, 0.02, 3), Estimate(0.77, 0.02, 3))
    assert not apart(Estimate(0.80, 0.0, 3), Estimate(0.80, 0.0, 3))


def test_a_winner_is_named_only_when_apart_from_every_other():
    clear = {"tricl": Estimate(0.80, 0.005, 3), "simclr": Estimate(0.75, 0.01, 3), "byol": Estimate(0.70, 0.02, 3)}
    v = verdict(clear)
    assert v.winner == "tricl" and v.tied == ("tricl",)
    assert v.text(clear) == "tricl 0.800 ± 0.005, ahead of simclr 0.750 ± 0.010"


def test_a_gap_inside_the_spread_is_a_tie_listing_everyone_within_it():
    close = {
        "mocov3": Estimate(0.779, 0.004, 3),
        "tricl": Estimate(0.773, 0.003, 3),
        "kernel": Estimate(0.770, 0.010, 3),
        "byol": Estimate(0.718, 0.005, 3),
    }
    v = verdict(close)
    assert v.winner is None and v.best == "mocov3" and v.tied == ("mocov3", "tricl", "kernel")
    assert v.text(close).startswith("tie: mocov3 0.779 ± 0.004, tricl 0.773 ± 0.003, kernel")
    assert "byol" not in v.text(close)


def test_unmeasured_candidates_take_no_part_and_none_measured_is_an_error():
    v = verdict({"a": Estimate(0.5, 0.0, 2), "b": estimate([])})
    assert v.winner == "a"
    with pytest.raises(ValueError, match="no candidate was measured"):
        verdict({"a": estimate([])})


def test_targets_are_met_or_missed_by_the_mean_and_flagged_when_the_spread_straddles_them():
    at_least = Target("top-8 over random", 0.10, unit="points")
    assert target_verdict(at_least, Estimate(0.183, 0.01, 3)) == "met"
    assert target_verdict(at_least, Estimate(0.05, 0.01, 3)) == "MISSED"
    assert target_verdict(at_least, Estimate(0.105, 0.02, 3)) == "met (within the spread)"
    assert target_verdict(at_least, Estimate(0.095, 0.02, 3)) == "MISSED (within the spread)"
    at_most = Target("SimCLR identifiability", 0.3, at_least=False)
    assert target_verdict(at_most, Estimate(0.275, 0.01, 2)) == "met"
    assert target_verdict(at_most, estimate([])) == "not measured"
    assert target_line(at_least, Estimate(0.183, 0.012, 3)) == (
        "- top-8 over random: +18.3 ± 1.2 points (target >= +10 points): met"
    )


def test_a_difference_of_estimates_carries_both_spreads():
    d = Estimate(0.75, 0.01, 3) - Estimate(0.70, 0.02, 3)
    assert d.mean == pytest.approx(0.05) and d.spread == pytest.approx(0.03) and d.n == 3
