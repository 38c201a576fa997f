from bench.alpr_confident_mistakes import confident_mistakes, width_bin


def record(confidence, correct, width, read="1234AB00"):
    return {"features": [0.0], "confidence": confidence, "correct": correct, "plate_width_px": width,
            "read": read, "truth": "1234AB00" if width else None, "kind": "mr_civil" if width else None}


def test_mistakes_are_ranked_by_confidence_and_binned_by_plate_width():
    records = [record(0.99, True, 200), record(0.98, False, 80, "1234AB08"), record(0.97, True, 130),
               record(0.96, False, None, "EXIT"), record(0.5, False, 60),
               {"features": None, "confidence": 0.0, "correct": False, "plate_width_px": 100}]
    report = confident_mistakes(records, top=4)
    assert report["reads"] == 5 and report["right"] == 2
    assert report["first_wrong_rank"] == 1
    assert report["wrong_in_top"] == 2
    assert [m["rank"] for m in report["mistakes"]] == [1, 3]
    assert report["mistakes"][0]["read"] == "1234AB08"
    assert report["top_by_plate_width"] == {"160-250": {"reads": 1, "wrong": 0}, "70-90": {"reads": 1, "wrong": 1},
                                            "120-160": {"reads": 1, "wrong": 0}, "no plate": {"reads": 1, "wrong": 1}}


def test_width_bins_cover_every_width():
    assert width_bin(10) == "0-70"
    assert width_bin(70) == "70-90"
    assert width_bin(249) == "160-250"
    assert width_bin(900) == ">=250"
    assert width_bin(None) == "no plate"


def test_the_reads_at_the_threshold_are_counted_and_checked_against_the_rule():
    right = [record(0.9999 - i / 1_000_000, True, 200) for i in range(1500)]
    with_one_wrong = [*right, record(0.999, False, 80, "1234AB08")]
    report = confident_mistakes(with_one_wrong, top=10, threshold=0.99)
    assert report["at_threshold"] == {"threshold": 0.99, "accepted": 1501, "wrong": 1, "rule_met": False}
    assert confident_mistakes(right, top=10, threshold=0.99)["at_threshold"]["rule_met"]
    nothing_accepted = confident_mistakes(right, top=10)["at_threshold"]
    assert nothing_accepted["accepted"] == 0 and not nothing_accepted["rule_met"]
