from __future__ import annotations

import re

from murur.ingest import execution_name, unparsed_frame_id

NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}$")


def test_the_execution_name_is_fixed_by_bucket_key_and_etag() -> None:
    name = execution_name("frames", "frames/NKC-TVZ-01/2026/11/28/F1.jpg", "abc", "NKC-TVZ-01-F1")
    assert name == execution_name("frames", "frames/NKC-TVZ-01/2026/11/28/F1.jpg", "abc", "NKC-TVZ-01-F1")
    assert name.startswith("NKC-TVZ-01-F1-") and NAME.match(name)
    assert name != execution_name("frames", "frames/NKC-TVZ-01/2026/11/28/F1.jpg", "abd", "NKC-TVZ-01-F1")
    assert name != execution_name("frames2", "frames/NKC-TVZ-01/2026/11/28/F1.jpg", "abc", "NKC-TVZ-01-F1")


def test_a_long_frame_id_still_gives_a_valid_name_that_keeps_the_digest() -> None:
    long_id = "NKC-" + "X" * 200
    first = execution_name("frames", "k1", "e", long_id)
    assert NAME.match(first) and len(first) == 80
    assert first != execution_name("frames", "k2", "e", long_id)


def test_an_unparsable_key_still_gets_a_stable_record_id() -> None:
    assert unparsed_frame_id("oops.jpg") == unparsed_frame_id("oops.jpg") != unparsed_frame_id("oops2.jpg")
