"""Number-plate text formats: normalisation, the Mauritanian region table and layout rules.

Pure Python on purpose (no numpy): the Lambda reader, the generator and the domain all import it.

A plate's text is always handled in its *normalised* form: upper case, no spaces, dashes or dots
(`"1234 AB 00"` -> `"1234AB00"`). A layout says which characters may stand at each position of a
normalised text, so the reader can use the format as a prior; a text that matches no layout is still a
valid reading (foreign or unusual plates pass the same cameras).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The recogniser's CTC alphabet (index 0 of the network output is the CTC blank, then these).
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALNUM = DIGITS + LETTERS

# Wilaya (region) codes printed as the last two characters of a Mauritanian civil plate.
REGIONS: dict[str, str] = {
    "00": "Nouakchott",
    "01": "Hodh Ech Chargui",
    "02": "Hodh El Gharbi",
    "03": "Assaba",
    "04": "Gorgol",
    "05": "Brakna",
    "06": "Trarza",
    "07": "Adrar",
    "08": "Dakhlet Nouadhibou",
    "09": "Tagant",
    "10": "Guidimaka",
    "11": "Tiris Zemmour",
    "12": "Inchiri",
}

_SEPARATORS = re.compile(r"[\s\-.·_/]+")


def normalise(text: str) -> str:
    """Upper case, without spaces, dashes, dots, underscores or slashes."""
    return _SEPARATORS.sub("", text).upper()


def is_plate_text(text: str) -> bool:
    """True when a normalised text only uses the recogniser's alphabet (and is not empty)."""
    return bool(text) and all(ch in ALPHABET for ch in text)


@dataclass(frozen=True)
class Layout:
    """One plate text layout.

    `groups` are the printed groups of the normalised text (e.g. 4 digits, 2 letters, 2 digits for a
    Mauritanian civil plate) as strings of allowed characters per position; `pattern` is the exact rule
    (it also checks cross-position constraints such as the region code range).
    """

    id: str
    description: str
    pattern: re.Pattern[str]
    groups: tuple[tuple[str, ...], ...]
    # More specific layouts win when several match (a civil plate is also a valid foreign text).
    specificity: int

    @property
    def length(self) -> int | None:
        """Fixed length of the normalised text, or None for variable-length layouts."""
        return sum(len(g) for g in self.groups) if self.groups else None

    def allowed_chars(self) -> tuple[str, ...] | None:
        """Allowed characters per position of the normalised text (None when the length varies)."""
        if not self.groups:
            return None
        return tuple(chars for group in self.groups for chars in group)

    def matches(self, text: str) -> bool:
        return self.pattern.fullmatch(normalise(text)) is not None

    def split(self, text: str) -> list[str]:
        """The printed groups of `text` (e.g. `["1234", "AB", "00"]`); one group when variable."""
        text = normalise(text)
        if not self.groups:
            return [text]
        parts, start = [], 0
        for group in self.groups:
            parts.append(text[start : start + len(group)])
            start += len(group)
        return parts

    def display(self, text: str) -> str:
        """Human form with spaces between groups, e.g. `"1234 AB 00"`."""
        return " ".join(self.split(text))


def _fixed(*groups: str) -> tuple[tuple[str, ...], ...]:
    """Groups from a compact spec: 'D' digit, 'L' letter, 'A' alphanumeric, '0' / '1' literal sets."""
    classes = {"D": DIGITS, "L": LETTERS, "A": ALNUM}
    return tuple(tuple(classes.get(c, c) for c in group) for group in groups)


_REGION = "(?:0[0-9]|1[0-2])"

MR_CIVIL = Layout(
    id="MR_CIVIL",
    description="Mauritanian civil plate: 4 digits, 2 letters, 2-digit wilaya code 00-12 (1234 AB 00)",
    pattern=re.compile(rf"[0-9]{{4}}[A-Z]{{2}}{_REGION}"),
    groups=(
        (DIGITS,) * 4,
        (LETTERS,) * 2,
        ("01", DIGITS),  # second region digit is constrained by the pattern (10..12 only)
    ),
    specificity=30,
)
MR_DIPLOMATIC = Layout(
    id="MR_DIPLOMATIC",
    description="Mauritanian diplomatic plate: 2 digits, CD, 4 digits (12 CD 3456)",
    pattern=re.compile(r"[0-9]{2}CD[0-9]{4}"),
    groups=((DIGITS,) * 2, ("C", "D"), (DIGITS,) * 4),
    specificity=40,
)
MR_UN = Layout(
    id="MR_UN",
    description="United Nations plate in Mauritania: 2 digits, ONU, 4 digits (12 ONU 3456)",
    pattern=re.compile(r"[0-9]{2}ONU[0-9]{4}"),
    groups=((DIGITS,) * 2, ("O", "N", "U"), (DIGITS,) * 4),
    specificity=40,
)
FOREIGN = Layout(
    id="FOREIGN",
    description="Other Latin-alphabet plate: 4 to 8 letters or digits",
    pattern=re.compile(r"[0-9A-Z]{4,8}"),
    groups=(),
    specificity=0,
)

# Government plates (black on yellow) and two-row plates (motorcycles, trucks) carry the civil text
# layout; they differ by colour and arrangement, which the generator's plate kinds describe.
LAYOUTS: tuple[Layout, ...] = (MR_DIPLOMATIC, MR_UN, MR_CIVIL, FOREIGN)
LAYOUTS_BY_ID: dict[str, Layout] = {layout.id: layout for layout in LAYOUTS}


def match_layout(text: str) -> Layout | None:
    """The most specific layout the (normalised) text satisfies, or None if it fits none."""
    text = normalise(text)
    best: Layout | None = None
    for layout in LAYOUTS:
        if layout.pattern.fullmatch(text) and (best is None or layout.specificity > best.specificity):
            best = layout
    return best


def region_of(text: str) -> str | None:
    """Wilaya name of a Mauritanian civil plate, None for any other text."""
    text = normalise(text)
    if MR_CIVIL.pattern.fullmatch(text):
        return REGIONS[text[-2:]]
    return None


def layouts_of_length(length: int) -> tuple[Layout, ...]:
    """Fixed-length layouts whose text has `length` characters, most specific first."""
    found = [lay for lay in LAYOUTS if lay.length == length]
    return tuple(sorted(found, key=lambda lay: -lay.specificity))


# Characters that plate typefaces (and blurry photos) make look alike, both ways.
CONFUSABLE: dict[str, str] = {
    "0": "ODQ", "O": "0DQ", "D": "0O", "Q": "0O",
    "1": "IL", "I": "1L", "L": "1I",
    "2": "Z", "Z": "2",
    "5": "S", "S": "5",
    "6": "G", "G": "6",
    "8": "B", "B": "8",
    "4": "A", "A": "4",
    "7": "T", "T": "7",
}


def repair(text: str, layout: Layout) -> str | None:
    """`text` made to fit a fixed-length `layout` by swapping look-alike characters where a position
    does not allow the one read (e.g. `"12O4AB00"` -> `"1204AB00"` for MR_CIVIL); None if impossible.

    Only for use as a prior: the reader should lower its confidence in a repaired read.
    """
    text = normalise(text)
    allowed = layout.allowed_chars()
    if allowed is None or len(text) != len(allowed):
        return text if layout.matches(text) else None
    fixed = []
    for ch, chars in zip(text, allowed):
        if ch in chars:
            fixed.append(ch)
            continue
        swap = next((alt for alt in CONFUSABLE.get(ch, "") if alt in chars), None)
        if swap is None:
            return None
        fixed.append(swap)
    candidate = "".join(fixed)
    return candidate if layout.matches(candidate) else None
