import pytest

from murur.alpr.formats import (
    ALPHABET,
    FOREIGN,
    LAYOUTS,
    MR_CIVIL,
    MR_DIPLOMATIC,
    MR_UN,
    REGIONS,
    is_plate_text,
    layouts_of_length,
    match_layout,
    normalise,
    region_of,
    repair,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1234 AB 00", "1234AB00"), ("ab-123-cd", "AB123CD"), (" 12.cd.3456 ", "12CD3456"), ("x_y/z", "XYZ")],
)
def test_normalise_strips_separators_and_upper_cases(raw, expected):
    assert normalise(raw) == expected


def test_alphabet_is_digits_then_latin_capitals():
    assert ALPHABET == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    assert len(set(ALPHABET)) == 36


def test_region_table_covers_the_thirteen_wilayas():
    assert sorted(REGIONS) == [f"{i:02d}" for i in range(13)]
    assert REGIONS["00"] == "Nouakchott"
    assert REGIONS["08"] == "Dakhlet Nouadhibou"


@pytest.mark.parametrize("text", ["1234AB00", "0001ZZ12", "9999XY09", "1234 ab 10"])
def test_mauritanian_civil_plates(text):
    assert match_layout(text) is MR_CIVIL
    assert region_of(text) == REGIONS[normalise(text)[-2:]]


@pytest.mark.parametrize("text", ["1234AB13", "1234AB99", "123AB00", "1234A100"])
def test_civil_layout_rejects_bad_regions_and_shapes(text):
    assert match_layout(text) is not MR_CIVIL
    assert region_of(text) is None


def test_diplomatic_and_un_plates_win_over_the_generic_layout():
    assert match_layout("12 CD 3456") is MR_DIPLOMATIC
    assert match_layout("12ONU3456") is MR_UN


@pytest.mark.parametrize("text", ["ABC1234", "7ABC123", "WXYZ", "AB123CD", "12345678"])
def test_other_latin_plates_are_foreign(text):
    assert match_layout(text) is FOREIGN


@pytest.mark.parametrize("text", ["ABC", "123456789", "ÉCOLE", ""])
def test_texts_matching_no_layout_give_none(text):
    assert match_layout(text) is None


def test_allowed_chars_follow_the_civil_layout():
    allowed = MR_CIVIL.allowed_chars()
    assert len(allowed) == 8
    assert all(set(chars) <= set("0123456789") for chars in allowed[:4])
    assert all(set(chars) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for chars in allowed[4:6])
    assert set(allowed[6]) == {"0", "1"}
    assert FOREIGN.allowed_chars() is None


def test_fixed_layouts_accept_exactly_their_allowed_characters():
    for layout in LAYOUTS:
        allowed = layout.allowed_chars()
        if allowed is None:
            continue
        sample = "".join(chars[0] for chars in allowed)
        assert layout.matches(sample), layout.id
        assert all(ch in ALPHABET for chars in allowed for ch in chars)


def test_display_groups():
    assert MR_CIVIL.display("1234AB00") == "1234 AB 00"
    assert MR_DIPLOMATIC.display("12CD3456") == "12 CD 3456"
    assert FOREIGN.display("ab12") == "AB12"


def test_layouts_of_length_most_specific_first():
    assert layouts_of_length(8) == (MR_DIPLOMATIC, MR_CIVIL)
    assert MR_UN in layouts_of_length(9)
    assert layouts_of_length(3) == ()


def test_is_plate_text():
    assert is_plate_text("AB12")
    assert not is_plate_text("")
    assert not is_plate_text("AB 12")


def test_repair_swaps_look_alikes_to_fit_a_layout():
    assert repair("12O4AB00", MR_CIVIL) == "1204AB00"
    assert repair("1234A800", MR_CIVIL) == "1234AB00"
    assert repair("I2CD3456", MR_DIPLOMATIC) == "12CD3456"
    assert repair("1234AB00", MR_CIVIL) == "1234AB00"


def test_repair_gives_none_when_no_swap_fits():
    assert repair("1234AB13", MR_CIVIL) is None  # region 13 does not exist
    assert repair("1234ABX0", MR_CIVIL) is None
    assert repair("123AB00", MR_CIVIL) is None
    assert repair("AB12", FOREIGN) == "AB12"
    assert repair("AB", FOREIGN) is None
