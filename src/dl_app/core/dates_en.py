"""English (and numeric) date expressions for ``dates.py``: yesterday, two days ago,
last Friday, the week before last, in May, May 8th, 2023, last summer, in 2023,
2023-05-08 ..."""

from __future__ import annotations

import re
from datetime import date, timedelta

from .dates_calc import (
    FUTURE,
    PAST,
    SENTENCE_END,
    Period,
    Rule,
    add_months,
    ago,
    date_toward,
    days,
    last_weekend,
    month,
    month_part,
    month_toward,
    one_day,
    scan,
    season,
    season_after,
    season_before,
    season_year,
    shift,
    tense,
    week,
    weekday_of,
    weekday_toward,
    weekend,
    year,
)

_F = re.I | re.A  # ASCII word boundaries: a date next to Chinese text is still found
_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTH_KEYS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_YEAR = r"(?P<y>(?:19|20)[0-9]{2})"
# Lower-case "may", "march" and abbreviations are words, not months.
_LOWER_OK = {"january", "february", "april", "june", "july", "august", "september",
             "october", "november", "december"}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SEASONS = {"spring": 0, "summer": 1, "autumn": 2, "fall": 2, "winter": 3}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
            "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
            "couple": 2}
_PARTS = {"early": "early", "beginning": "early", "start": "early", "mid": "mid",
          "middle": "mid", "late": "late", "end": "late"}
_DAY_WORDS = {"the day before yesterday": -2, "yesterday": -1, "last night": -1,
              "tomorrow": 1, "the day after tomorrow": 2}  # the others are today
_STEPS = {"last": -1, "this": 0, "next": 1}

_FUTURE = re.compile(
    r"\b(?:will|won't|shall|gonna|going\s+to|plan(?:s|ning)?\s+to|about\s+to|upcoming"
    r"|coming\s+up)\b|'ll\b", _F)
_PAST = re.compile(
    r"\b(?:did|didn't|was|wasn't|were|weren't|had|went|came|got|saw|met|made|took|said|told"
    r"|bought|left|ago|yesterday)\b"
    r"|\b(?!\w*eed\b|(?:excit|interest|tir|scar|worri|marri|suppos|us|relat|bas|bor|stress"
    r"|pleas|prepar|schedul)ed\b)\w{2,}ed\b", _F)


def _month_no(m: re.Match[str]) -> int | None:
    """The month named by group ``mon``, or None for a word that only looks like one."""
    word = m["mon"]
    if word[0].islower() and word.lower() not in _LOWER_OK:
        return None
    return _MONTH_KEYS.index(word.lower()[:3]) + 1


def _direction(m: re.Match[str]) -> int:
    return tense(m, _FUTURE, _PAST, SENTENCE_END)


_NUMERIC = re.compile(
    r"(?<![\d/.-])(?P<y>(?:19|20)\d{2})(?P<sep>[-/.])(?P<m>\d{1,2})"
    r"(?:(?P=sep)(?P<d>\d{1,2}))?(?![\d/-]|\.\d)", _F)


def _numeric(m: re.Match[str], today: date) -> Period | None:
    """2023-05-08, 2023/5/8, 2023.5.8; 2023-05 (with a dash and two digits) is May 2023."""
    y, mon = int(m["y"]), int(m["m"])
    if m["d"]:
        return one_day(y, mon, int(m["d"]), False)
    return month(y, mon, False) if m["sep"] == "-" and len(m["m"]) == 2 else None


_DAY_MONTH = re.compile(
    rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MON}\b\.?(?:,?\s+{_YEAR}\b)?", _F)
_MONTH_DAY = re.compile(
    rf"\b{_MON}\b\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*[:%]|\.\d)(?:,?\s+{_YEAR}\b)?", _F)


def _day_of_month(m: re.Match[str], today: date) -> Period | None:
    mon = _month_no(m)
    if mon is None:
        return None
    if m["y"]:
        return one_day(int(m["y"]), mon, int(m["d"]), False)
    return date_toward(today, mon, int(m["d"]), _direction(m))


_MONTH = re.compile(
    r"(?:\b(?P<pre>in|since|until|till|by|during|through|before|after|from)\s+(?:the\s+)?)?"
    r"(?P<x>(?:(?P<step>last|this|next)\s+|(?P<part>early|late|mid-?|(?:the\s+)?"
    rf"(?P<of>beginning|start|end|middle)\s+of)\s*)?\b{_MON}\b(?:,?\s+{_YEAR}\b)?)", _F)


def _month(m: re.Match[str], today: date) -> Period | None:
    """A month name needs a year, a preposition or a qualifier (never "May I ...").
    Without a year: last May is the latest May before this month, next May the first
    after it, May alone as ``month_toward`` says for the sentence's tense."""
    mon = _month_no(m)
    if mon is None or not (m["pre"] or m["step"] or m["part"] or m["y"]):
        return None
    if m["y"]:
        y = int(m["y"])
    elif m["step"]:
        step = m["step"].lower()
        y = today.year
        if step == "last" and mon >= today.month:
            y -= 1
        elif step == "next" and mon <= today.month:
            y += 1
    else:
        y = month_toward(today, mon, _direction(m))
    relative = m["y"] is None
    if m["part"]:
        part = (m["of"] or m["part"].rstrip("-")).lower()
        return month_part(y, mon, _PARTS[part], relative)
    return month(y, mon, relative)


_IN_YEAR = re.compile(
    rf"\b(?:in|since|during|until|till|by|before|after|from|of)\s+(?P<x>{_YEAR})\b(?![-/.]\d)", _F)


def _in_year(m: re.Match[str], today: date) -> Period | None:
    return year(int(m["y"]), False)


_SEASON = re.compile(
    r"\b(?P<x>(?:(?P<step>last|this\s+past|past|this|next)\s+)?(?:the\s+)?"
    rf"(?P<s>spring|summer|autumn|fall|winter)(?:\s+(?:of\s+)?{_YEAR})?)\b", _F)


def _season(m: re.Match[str], today: date) -> Period | None:
    """Last summer: the latest summer that has ended; this summer: the one of this
    year (in January, "this winter" began in December); next: the first to begin."""
    s = _SEASONS[m["s"].lower()]
    if m["y"]:
        return season(int(m["y"]), s, False)
    step = (m["step"] or "").lower()
    if step == "this":
        return season(season_year(today, s), s)
    if step == "next":
        return season_after(today, s)
    return season_before(today, s) if step else None


_DAY_WORD = re.compile(
    r"\b(?:the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow|today|tonight"
    r"|yesterday|tomorrow|last\s+night|this\s+(?:morning|afternoon|evening))\b", _F)


def _day_word(m: re.Match[str], today: date) -> Period | None:
    word = " ".join(m[0].lower().split())
    d = shift(today, _DAY_WORDS.get(word, 0))
    return days(d) if d else None


_AMOUNT = re.compile(
    r"\b(?:(?P<in>in)\s+)?(?P<n>\d{1,3}|a\s+couple\s+of|a\s+couple|couple\s+of|an?|one|two"
    r"|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+(?P<u>day|week|month|year)s?"
    r"(?:\s+(?P<dir>ago|from\s+now))?\b", _F)


def _amount(m: re.Match[str], today: date) -> Period | None:
    """Two days ago, a week from now, in 3 months."""
    if not (m["in"] or m["dir"]):
        return None
    words = m["n"].lower().split()
    n = int(words[0]) if words[0].isdigit() else _NUMBERS[words[-1] if words[-1] != "of"
                                                          else words[-2]]
    sign = -1 if (m["dir"] or "").lower() == "ago" else 1
    return ago(today, sign * n, m["u"].lower())


_STEP_UNIT = re.compile(r"\b(?P<step>last|this|next)\s+(?P<u>week|month|year|weekend)\b", _F)
_TWO_STEPS = re.compile(
    r"\bthe\s+(?P<u>week|month|year|weekend)\s+(?P<step>before\s+last|after\s+next)\b", _F)


def _step_unit(m: re.Match[str], today: date) -> Period | None:
    """Last week, this month, next year, the week before last (weeks are Monday-Sunday;
    last weekend is the one of the week before)."""
    word = m["step"].lower()
    n = _STEPS.get(word, -2 if word.startswith("before") else 2)
    unit = m["u"].lower()
    if unit == "weekend":
        return weekend(today + timedelta(days=7 * n))
    if unit == "week":
        return week(today + timedelta(days=7 * n))
    if unit == "month":
        return month(*add_months(today.year, today.month, n))
    return year(today.year + n)


_WEEKEND = re.compile(r"\b(?:on|at|over|during|for)\s+(?P<x>the\s+weekend)\b", _F)


def _weekend(m: re.Match[str], today: date) -> Period | None:
    return last_weekend(today) if _direction(m) == PAST else weekend(today)


_WEEKDAY = re.compile(
    r"\b(?:(?P<step>last|this\s+coming|this\s+past|this|next)\s+)?"
    r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", _F)


def _weekday(m: re.Match[str], today: date) -> Period | None:
    """Last Friday: the latest Friday before today; this Friday: today or the coming
    one; next Friday: Friday of next week; Friday alone: the last one if the sentence
    is in the past, else the coming one."""
    wd = _WEEKDAYS.index(m["wd"].lower())
    step = " ".join((m["step"] or "").lower().split())
    if step == "next":
        return weekday_of(today + timedelta(days=7), wd)
    if step == "this":
        return days(today) if today.weekday() == wd else weekday_toward(today, wd, FUTURE)
    if step in ("last", "this past") or (not step and _direction(m) == PAST):
        return weekday_toward(today, wd, PAST)
    return weekday_toward(today, wd, FUTURE)


RULES: list[Rule] = [
    (_NUMERIC, _numeric), (_DAY_MONTH, _day_of_month), (_MONTH_DAY, _day_of_month),
    (_MONTH, _month), (_IN_YEAR, _in_year), (_SEASON, _season), (_DAY_WORD, _day_word),
    (_AMOUNT, _amount), (_STEP_UNIT, _step_unit), (_TWO_STEPS, _step_unit),
    (_WEEKEND, _weekend), (_WEEKDAY, _weekday),
]


def find(text: str, today: date) -> list[tuple[int, int, Period]]:
    """The English and numeric date expressions in ``text`` (overlaps included)."""
    return scan(text, today, RULES)
