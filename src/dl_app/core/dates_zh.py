"""Chinese date expressions for ``dates.py``: 昨天, 三天前, 上周五, 这周末, 下个月,
5月初, 去年夏天, 2023年5月8日, 8号 ... (Arabic or Chinese numerals)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from .dates_calc import (
    CLAUSE_END,
    FUTURE,
    PAST,
    Period,
    Rule,
    add_months,
    ago,
    date_toward,
    day_toward,
    days,
    last_weekend,
    month,
    month_part,
    month_toward,
    one_day,
    scan,
    season,
    season_year,
    shift,
    tense,
    week,
    weekday_of,
    weekday_toward,
    weekend,
    year,
)

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(?:[0-9]{1,3}|[一二两三四五六七八九]?十[一二三四五六七八九]?|[一二两三四五六七八九])"
_MON = r"(?:[0-9]{1,2}|十[一二]?|[一二三四五六七八九])"
_DAY = r"(?:[0-9]{1,2}|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])"
_NOT_AFTER_NUM = r"(?<![0-9〇零一二两三四五六七八九十])"
_PART = r"(?P<mp>初|底|末|上旬|中旬|下旬)"
_PARTS = {"初": "early", "上旬": "early", "中旬": "mid", "底": "late", "末": "late",
          "下旬": "late"}
# 一 is not Monday in 上周一起 ("together"), nor 天 Sunday in 这周天气 ("weather").
_WEEKDAY = r"(?P<wd>一(?![起直下样共点些次定切般个])|[二三四五六日1-7]|天(?![气空然才下]))"
_WEEKDAYS = {c: i for i, c in enumerate("一二三四五六日")} | {"天": 6} | {
    str(i + 1): i for i in range(7)}
_SEASONS = {"春": 0, "夏": 1, "秋": 2, "冬": 3}
_YEARS = {"大前年": -3, "前年": -2, "去年": -1, "今年": 0, "明年": 1, "后年": 2}
_STEPS = {"上上": -2, "上": -1, "这": 0, "本": 0, "下": 1, "下下": 2}
_DAY_WORDS = {"大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "昨晚": -1, "昨儿": -1,
              "今天": 0, "今日": 0, "今晚": 0, "今早": 0, "今儿": 0, "明天": 1, "明日": 1,
              "明晚": 1, "明早": 1, "明儿": 1, "后天": 2, "大后天": 3}

# Tense of the clause: 要/打算 point ahead (also in 要考试了), 了/过/已经 back; 会 is
# left out (组会, 机会), and so are 了 that mark no past (对了, 累死了, 来不了).
_FUTURE = re.compile(r"(?<![需重主只不])要(?!是|不然)|打算|准备|计划|将要|就要|快要|到时")
_PAST = re.compile(
    r"(?<![为除对算罢极死多不了])了(?!解)|(?<![难不经通超太])过(?![来年节敏期])"
    r"|已经|刚才|刚刚|曾经"
)


def zh_int(s: str) -> int:
    """The value of a numeral the patterns admit: 12, 十二, 二十三, 二〇二三."""
    if s.isascii():
        return int(s)
    if "十" not in s:
        n = 0
        for c in s:
            n = n * 10 + _DIGITS[c]
        return n
    tens, _, ones = s.partition("十")
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0)


def _direction(m: re.Match[str]) -> int:
    return tense(m, _FUTURE, _PAST, CLAUSE_END)


def _next_char(m: re.Match[str]) -> str:
    return m.string[m.end() : m.end() + 1]


def _month_of(m: re.Match[str], y: int, relative: bool) -> Period | None:
    """Month group ``m`` of year ``y`` with its day or part, if any."""
    mon = zh_int(m["m"])
    if m["d"]:
        return one_day(y, mon, zh_int(m["d"]), relative)
    if m["mp"]:
        return month_part(y, mon, _PARTS[m["mp"]], relative)
    return month(y, mon, relative)


_YEAR = re.compile(
    r"(?<![0-9])(?:(?P<yn>(?:19|20)[0-9]{2}|[〇零一二三四五六七八九]{4})年"
    r"|(?P<yr>大前年|(?<![以之])前年|去年|今年|明年|(?<![以之然最])后年))"
    rf"(?:的?(?:(?P<m>{_MON})月份?(?:(?P<d>{_DAY})[日号]|{_PART})?"
    r"|(?P<s>[春夏秋冬])[天季]|年?(?P<yp>初|底|末)))?"
)


def _year(m: re.Match[str], today: date) -> Period | None:
    relative = m["yr"] is not None
    y = today.year + _YEARS[m["yr"]] if relative else zh_int(m["yn"])
    if not relative and not 1900 <= y <= 2099:
        return None
    if m["m"]:
        return _month_of(m, y, relative)
    if m["s"]:
        s = _SEASONS[m["s"]]
        return season(y + season_year(today, s) - today.year if relative else y, s, relative)
    if m["yp"]:
        return month(y, 1 if m["yp"] == "初" else 12, relative)
    return year(y, relative)


_MONTH_STEP = re.compile(rf"(?P<step>上上|下下|上|下|这|本)个?月(?:(?P<d>{_DAY})[日号]|{_PART})?")


def _month_step(m: re.Match[str], today: date) -> Period | None:
    if not (m["d"] or m["mp"]) and _next_char(m) in set("亮光饼球台票"):
        return None
    y, mon = add_months(today.year, today.month, _STEPS[m["step"]])
    if m["d"]:
        return one_day(y, mon, zh_int(m["d"]))
    return month_part(y, mon, _PARTS[m["mp"]]) if m["mp"] else month(y, mon)


_AMOUNT = re.compile(
    rf"{_NOT_AFTER_NUM}(?P<n>{_NUM})(?P<u>天|个?星期|个?礼拜|周|个多?月|年)多?"
    r"(?P<dir>以前|之前|前|以后|之后|后)"
)
_UNITS = {"天": "day", "月": "month", "年": "year"}


def _amount(m: re.Match[str], today: date) -> Period | None:
    n = zh_int(m["n"]) * (-1 if m["dir"].endswith("前") else 1)
    return ago(today, n, _UNITS.get(m["u"][-1], "week"))


_DAY_WORD = re.compile(
    r"大前天|大后天|(?<![以之])前天|(?<![先以之最午])后天|昨天|昨日|昨晚|昨儿"
    r"|今天|今日|今晚|今早|今儿|明天|明日|明晚|明早|明儿"
)


def _day_word(m: re.Match[str], today: date) -> Period | None:
    d = shift(today, _DAY_WORDS[m[0]])
    return days(d) if d else None


_TODAY_WEEKDAY = re.compile(r"(?:今天|今儿)是?(?:周|星期|礼拜)[一二三四五六日天]")


def _today_weekday(m: re.Match[str], today: date) -> Period | None:
    """今天周六: today, whatever the weekday says."""
    return days(today)


_WEEK_STEP = re.compile(
    rf"(?P<step>上上|下下|上|下|这|本)个?(?:周|星期|礼拜)(?:{_WEEKDAY}|(?P<we>末))?"
)


def _week_step(m: re.Match[str], today: date) -> Period | None:
    if not (m["wd"] or m["we"]) and _next_char(m) in set("围边到全期年岁刊报"):
        return None
    base = today + timedelta(days=7 * _STEPS[m["step"]])
    if m["wd"]:
        return weekday_of(base, _WEEKDAYS[m["wd"]])
    return weekend(base) if m["we"] else week(base)


_WEEKDAY_BARE = re.compile(
    rf"(?<![每一二两三四五六七八九十几数多个上下这本])(?:周|星期|礼拜)(?:{_WEEKDAY}|(?P<we>末))"
)


def _weekday_bare(m: re.Match[str], today: date) -> Period | None:
    """A bare 周五 is the nearest other Friday: the last one if its clause is in the
    past (了, 过, 已经), else the coming one (周五考试); a bare 周末 likewise. Right
    after a date (5月18号，周四) it only names that date's weekday."""
    if re.search(r"[0-9一二三四五六七八九十][号日][，,（( ]?$", m.string[: m.start()]):
        return None
    direction = _direction(m)
    if m["we"]:
        return last_weekend(today) if direction == PAST else weekend(today)
    return weekday_toward(today, _WEEKDAYS[m["wd"]], PAST if direction == PAST else FUTURE)


_MONTH_BARE = re.compile(
    r"(?<![0-9〇零一二两三四五六七八九十第每个上下这本半几多])"
    rf"(?P<m>{_MON})月份?(?:(?P<d>{_DAY})[日号]|{_PART})?"
)


def _month_bare(m: re.Match[str], today: date) -> Period | None:
    """5月 or 5月20日 without a year: the last one if its clause is in the past, the
    next one if it points ahead, else the nearer (see ``month_toward``)."""
    if not (m["d"] or m["mp"]) and _next_char(m) in set("天亮光饼球"):
        return None
    direction = _direction(m)
    if m["d"]:
        return date_toward(today, zh_int(m["m"]), zh_int(m["d"]), direction)
    return _month_of(m, month_toward(today, zh_int(m["m"]), direction), True)


_MONTH_PART = re.compile(r"(?<![0-9〇零一二两三四五六七八九十个上下这本每岁])月(?P<mp>初|底|末)")


def _month_part(m: re.Match[str], today: date) -> Period | None:
    return month_part(today.year, today.month, _PARTS[m["mp"]])


_DAY_BARE = re.compile(
    rf"(?<![0-9〇零一二两三四五六七八九十月第号.])(?P<d>{_DAY})[号日]"
    r"(?=那天|晚上|早上|上午|下午|中午|当天|之前|以前|以后|之后|前|后|开始|出发|回来|见|的时候"
    r"|[，。！？、,.!?\s]|$)"
)


def _day_bare(m: re.Match[str], today: date) -> Period | None:
    """8号 alone: day 8 of a month next to this one (the nearer unless its clause has a tense)."""
    return day_toward(today, zh_int(m["d"]), _direction(m))


_THIS_SEASON = re.compile(r"这个(?P<s>[春夏秋冬])[天季]")


def _this_season(m: re.Match[str], today: date) -> Period | None:
    s = _SEASONS[m["s"]]
    return season(season_year(today, s), s)


RULES: list[Rule] = [
    (_YEAR, _year), (_MONTH_STEP, _month_step), (_AMOUNT, _amount), (_DAY_WORD, _day_word),
    (_TODAY_WEEKDAY, _today_weekday),
    (_WEEK_STEP, _week_step), (_WEEKDAY_BARE, _weekday_bare), (_MONTH_BARE, _month_bare),
    (_MONTH_PART, _month_part), (_DAY_BARE, _day_bare), (_THIS_SEASON, _this_season),
]


def find(text: str, today: date) -> list[tuple[int, int, Period]]:
    """The Chinese date expressions in ``text`` (overlaps included; dates.py picks)."""
    return scan(text, today, RULES)
