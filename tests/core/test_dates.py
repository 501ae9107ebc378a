"""The date resolver (core/dates.py): zh and en expressions resolved against a fixed
reference time in UTC+8, across week, month and year boundaries, and the words
that only look like dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from dl_app.core.dates import Span, date_terms, find_spans, local_date

CST = timezone(timedelta(hours=8))
OFFSET = 480


def _ms(*args: int, tz: timezone = CST) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp() * 1000)  # type: ignore[misc]


MON_8_MAY = _ms(2023, 5, 8, 20, 30)  # a Monday evening
MON_2_JAN = _ms(2023, 1, 2, 1, 0)  # a Monday, early: still 1 January in UTC


def _show(span: Span) -> str:
    """'昨天=2023-05-07/day', '上周=2023-05-01..2023-05-07/week'; '*' marks absolute."""
    first = local_date(span.start_ms, OFFSET)
    last = local_date(span.end_ms - 1, OFFSET)
    when = str(first) if first == last else f"{first}..{last}"
    return f"{span.text}={when}/{span.grain}{'' if span.relative else '*'}"


def _resolve(text: str, ref: int) -> list[str]:
    return [_show(s) for s in find_spans(text, ref, OFFSET)]


ZH_MAY = [
    ("昨天我去了超市", ["昨天=2023-05-07/day"]),
    ("前天和大前天都下雨", ["前天=2023-05-06/day", "大前天=2023-05-05/day"]),
    ("明天、后天、大后天", ["明天=2023-05-09/day", "后天=2023-05-10/day", "大后天=2023-05-11/day"]),
    ("今晚吃什么", ["今晚=2023-05-08/day"]),
    ("三天前", ["三天前=2023-05-05/day"]),
    ("10天后出发", ["10天后=2023-05-18/day"]),
    ("两周前", ["两周前=2023-04-24..2023-04-30/week"]),
    ("三个月前", ["三个月前=2023-02-01..2023-02-28/month"]),
    ("一年前", ["一年前=2022-01-01..2022-12-31/year"]),
    ("上周", ["上周=2023-05-01..2023-05-07/week"]),
    ("这周很忙", ["这周=2023-05-08..2023-05-14/week"]),
    ("本周", ["本周=2023-05-08..2023-05-14/week"]),
    ("下周", ["下周=2023-05-15..2023-05-21/week"]),
    ("上上周", ["上上周=2023-04-24..2023-04-30/week"]),
    ("上周五我们见了面", ["上周五=2023-05-05/day"]),
    ("上个星期三", ["上个星期三=2023-05-03/day"]),
    ("下礼拜天", ["下礼拜天=2023-05-21/day"]),
    ("这周六", ["这周六=2023-05-13/day"]),
    ("上周末", ["上周末=2023-05-06..2023-05-07/day"]),
    ("这周末", ["这周末=2023-05-13..2023-05-14/day"]),
    # a bare weekday: a plan unless the sentence is in the past tense
    ("周五考试", ["周五=2023-05-12/day"]),
    ("周五考完了", ["周五=2023-05-05/day"]),
    ("礼拜三我们去看了电影", ["礼拜三=2023-05-03/day"]),
    ("星期一要交报告", ["星期一=2023-05-15/day"]),
    ("周末去了公园", ["周末=2023-05-06..2023-05-07/day"]),
    ("周末打算去爬山", ["周末=2023-05-13..2023-05-14/day"]),
    ("上个月", ["上个月=2023-04-01..2023-04-30/month"]),
    ("这个月", ["这个月=2023-05-01..2023-05-31/month"]),
    ("下个月初", ["下个月初=2023-06-01..2023-06-10/week"]),
    ("上月底", ["上月底=2023-04-21..2023-04-30/week"]),
    ("这个月8号", ["这个月8号=2023-05-08/day"]),
    ("月初", ["月初=2023-05-01..2023-05-10/week"]),
    ("月底要交房租", ["月底=2023-05-21..2023-05-31/week"]),
    ("去年", ["去年=2022-01-01..2022-12-31/year"]),
    ("今年", ["今年=2023-01-01..2023-12-31/year"]),
    ("明年", ["明年=2024-01-01..2024-12-31/year"]),
    ("前年", ["前年=2021-01-01..2021-12-31/year"]),
    ("去年夏天", ["去年夏天=2022-06-01..2022-08-31/season"]),
    ("今年春天", ["今年春天=2023-03-01..2023-05-31/season"]),
    ("这个夏天", ["这个夏天=2023-06-01..2023-08-31/season"]),
    ("去年的冬天", ["去年的冬天=2022-12-01..2023-02-28/season"]),
    ("去年5月", ["去年5月=2022-05-01..2022-05-31/month"]),
    ("明年三月", ["明年三月=2024-03-01..2024-03-31/month"]),
    ("去年年底", ["去年年底=2022-12-01..2022-12-31/month"]),
    # a month without a year: the latest not after this one, unless the sentence points ahead
    ("5月", ["5月=2023-05-01..2023-05-31/month"]),
    ("五月", ["五月=2023-05-01..2023-05-31/month"]),
    ("6月", ["6月=2023-06-01..2023-06-30/month"]),
    ("7月去银行上班", ["7月=2023-07-01..2023-07-31/month"]),
    ("6月去了北京", ["6月=2022-06-01..2022-06-30/month"]),
    ("6月我要去旅行", ["6月=2023-06-01..2023-06-30/month"]),
    ("十二月", ["十二月=2022-12-01..2022-12-31/month"]),
    ("十一月份", ["十一月份=2022-11-01..2022-11-30/month"]),
    ("5月初", ["5月初=2023-05-01..2023-05-10/week"]),
    ("4月中旬", ["4月中旬=2023-04-11..2023-04-20/week"]),
    ("5月7日", ["5月7日=2023-05-07/day"]),
    ("5月20号考试", ["5月20号=2023-05-20/day"]),
    ("五月二十号", ["五月二十号=2023-05-20/day"]),
    ("8号那天", ["8号=2023-05-08/day"]),
    ("2023年5月8日", ["2023年5月8日=2023-05-08/day*"]),
    ("2022年3月", ["2022年3月=2022-03-01..2022-03-31/month*"]),
    ("二〇二二年十月", ["二〇二二年十月=2022-10-01..2022-10-31/month*"]),
    ("2021年", ["2021年=2021-01-01..2021-12-31/year*"]),
    ("2022年的冬天", ["2022年的冬天=2022-12-01..2023-02-28/season*"]),
    ("我们2023-05-01见的", ["2023-05-01=2023-05-01/day*"]),
    ("２０２３年５月１日", ["２０２３年５月１日=2023-05-01/day*"]),
    ("上周一起吃饭", ["上周=2023-05-01..2023-05-07/week"]),
    # the tense is the clause's: 了 elsewhere in the sentence, or 了 that marks no past, do not count
    ("答辩改了，改到5月20号", ["5月20号=2023-05-20/day"]),
    ("对了，科目二约在5月19号", ["5月19号=2023-05-19/day"]),
    ("约好了，周六下午两点", ["周六=2023-05-13/day"]),
    ("陈露周五在组会上表扬了我", ["周五=2023-05-05/day"]),
    ("今天周一，好累", ["今天周一=2023-05-08/day"]),
    ("最后一天是5月18号，周四", ["5月18号=2023-05-18/day"]),
    ("这周天气不错", ["这周=2023-05-08..2023-05-14/week"]),
]

EN_MAY = [
    ("today", ["today=2023-05-08/day"]),
    ("I saw her yesterday", ["yesterday=2023-05-07/day"]),
    ("tomorrow", ["tomorrow=2023-05-09/day"]),
    ("the day before yesterday", ["the day before yesterday=2023-05-06/day"]),
    ("last night", ["last night=2023-05-07/day"]),
    ("two days ago", ["two days ago=2023-05-06/day"]),
    ("3 weeks ago", ["3 weeks ago=2023-04-17..2023-04-23/week"]),
    ("a couple of days ago", ["a couple of days ago=2023-05-06/day"]),
    ("six months ago", ["six months ago=2022-11-01..2022-11-30/month"]),
    ("a year ago", ["a year ago=2022-01-01..2022-12-31/year"]),
    ("in two weeks", ["in two weeks=2023-05-22..2023-05-28/week"]),
    ("in 10 days", ["in 10 days=2023-05-18/day"]),
    ("last week", ["last week=2023-05-01..2023-05-07/week"]),
    ("the week before last", ["the week before last=2023-04-24..2023-04-30/week"]),
    ("this month", ["this month=2023-05-01..2023-05-31/month"]),
    ("next month", ["next month=2023-06-01..2023-06-30/month"]),
    ("next year", ["next year=2024-01-01..2024-12-31/year"]),
    ("last weekend", ["last weekend=2023-05-06..2023-05-07/day"]),
    ("this weekend", ["this weekend=2023-05-13..2023-05-14/day"]),
    ("on the weekend we went hiking", ["the weekend=2023-05-06..2023-05-07/day"]),
    ("last Friday", ["last Friday=2023-05-05/day"]),
    ("this past Sunday", ["this past Sunday=2023-05-07/day"]),
    ("this Friday", ["this Friday=2023-05-12/day"]),
    ("my sister arrives next Tuesday", ["next Tuesday=2023-05-16/day"]),
    ("on Friday I went out", ["Friday=2023-05-05/day"]),
    ("my exam is on Friday", ["Friday=2023-05-12/day"]),
    ("I'll call you Monday", ["Monday=2023-05-15/day"]),
    ("last summer", ["last summer=2022-06-01..2022-08-31/season"]),
    ("this spring", ["this spring=2023-03-01..2023-05-31/season"]),
    ("in May", ["May=2023-05-01..2023-05-31/month"]),
    ("in June", ["June=2023-06-01..2023-06-30/month"]),
    ("I was in Paris in June", ["June=2022-06-01..2022-06-30/month"]),
    ("we will fly in June", ["June=2023-06-01..2023-06-30/month"]),
    ("last May", ["last May=2022-05-01..2022-05-31/month"]),
    ("next May", ["next May=2024-05-01..2024-05-31/month"]),
    ("early May", ["early May=2023-05-01..2023-05-10/week"]),
    ("at the end of April", ["the end of April=2023-04-21..2023-04-30/week"]),
    ("May 2023", ["May 2023=2023-05-01..2023-05-31/month*"]),
    ("May 8", ["May 8=2023-05-08/day"]),
    ("Sept 5", ["Sept 5=2023-09-05/day"]),
    ("the 8th of May", ["8th of May=2023-05-08/day"]),
    ("8 May 2023", ["8 May 2023=2023-05-08/day*"]),
    ("May 8th, 2023", ["May 8th, 2023=2023-05-08/day*"]),
    ("in 2023", ["2023=2023-01-01..2023-12-31/year*"]),
    ("in the summer of 2022", ["the summer of 2022=2022-06-01..2022-08-31/season*"]),
    ("2023-05-08", ["2023-05-08=2023-05-08/day*"]),
    ("2023/5/6", ["2023/5/6=2023-05-06/day*"]),
    ("due 2023-06", ["2023-06=2023-06-01..2023-06-30/month*"]),
]

# Across the new year: Monday 2 January 2023, 01:00 in UTC+8 (31 December in UTC).
JAN = [
    ("昨天", ["昨天=2023-01-01/day"]),
    ("上周", ["上周=2022-12-26..2023-01-01/week"]),
    ("上周日", ["上周日=2023-01-01/day"]),
    ("上个月", ["上个月=2022-12-01..2022-12-31/month"]),
    ("12月", ["12月=2022-12-01..2022-12-31/month"]),
    ("12月31日", ["12月31日=2022-12-31/day"]),
    ("今年冬天", ["今年冬天=2022-12-01..2023-02-28/season"]),
    ("去年冬天", ["去年冬天=2021-12-01..2022-02-28/season"]),
    ("this winter", ["this winter=2022-12-01..2023-02-28/season"]),
    ("last winter", ["last winter=2021-12-01..2022-02-28/season"]),
    ("last December", ["last December=2022-12-01..2022-12-31/month"]),
    ("next month", ["next month=2023-02-01..2023-02-28/month"]),
    ("three days ago", ["three days ago=2022-12-30/day"]),
    ("去年", ["去年=2022-01-01..2022-12-31/year"]),
]

NOT_DATES = [
    "May I ask you something?", "you may go now", "June said hi", "I met Jan at noon",
    "we had 3 weeks of rain", "about 3 days", "one day I will", "Fridays are quiet",
    "这周围很安静", "五月天的演唱会", "一周一次", "每周五都有课", "坐3号线", "他三十岁了",
    "我买了3个苹果", "花了200块", "电话是13812345678", "5点见", "第5天", "以后天天锻炼",
    "一个月大概三千", "我有2023块钱",
    "搬到新家以后年糕胖了", "很久以前年纪还小",
]


@pytest.mark.parametrize(("text", "expected"), ZH_MAY + EN_MAY)
def test_resolved_in_may(text: str, expected: list[str]) -> None:
    assert _resolve(text, MON_8_MAY) == expected


@pytest.mark.parametrize(("text", "expected"), JAN)
def test_resolved_across_the_new_year(text: str, expected: list[str]) -> None:
    assert _resolve(text, MON_2_JAN) == expected


@pytest.mark.parametrize("text", NOT_DATES)
def test_words_that_only_look_like_dates(text: str) -> None:
    assert find_spans(text, MON_8_MAY, OFFSET) == []


def test_spans_are_local_midnights_in_utc_ms() -> None:
    (span,) = find_spans("昨天", MON_2_JAN, OFFSET)
    assert span == Span(_ms(2023, 1, 1), _ms(2023, 1, 2), "昨天", "day", True)
    assert datetime.fromtimestamp(span.start_ms / 1000, UTC) == datetime(2022, 12, 31, 16, tzinfo=UTC)


def test_the_offset_decides_which_day_it_is() -> None:
    ref = _ms(2023, 5, 8, 2, 0, tz=UTC)  # 7 May, 21:00 in UTC-5
    (span,) = find_spans("yesterday", ref, -300)
    est = timezone(timedelta(hours=-5))
    assert (span.start_ms, span.end_ms) == (_ms(2023, 5, 6, tz=est), _ms(2023, 5, 7, tz=est))
    (span,) = find_spans("yesterday", ref, 480)  # already 8 May 10:00 in UTC+8
    assert span.start_ms == _ms(2023, 5, 7)


def test_several_expressions_in_order_without_overlap() -> None:
    text = "上周末我们去了杭州，下周三再去一次。We met last Friday and again on 8 May 2023."
    assert _resolve(text, MON_8_MAY) == [
        "上周末=2023-05-06..2023-05-07/day", "下周三=2023-05-17/day",
        "last Friday=2023-05-05/day", "8 May 2023=2023-05-08/day*",
    ]


def test_date_terms_give_absolute_forms_of_relative_expressions() -> None:
    assert date_terms("昨天", _ms(2023, 5, 8, 12, 0), OFFSET) == (
        "2023-05-07 2023年5月7日 7 May 2023 May 2023 2023年5月")
    assert date_terms("上个月", MON_8_MAY, OFFSET) == "April 2023 2023年4月"
    assert date_terms("last year", MON_8_MAY, OFFSET) == "2022 2022年"
    assert date_terms("去年夏天", MON_8_MAY, OFFSET).split() == [
        "2022年夏天", "summer", "2022", "June", "2022", "2022年6月", "July", "2022",
        "2022年7月", "August", "2022", "2022年8月"]
    weekend = date_terms("last weekend", MON_8_MAY, OFFSET)
    assert weekend.startswith("2023-05-06 2023年5月6日 6 May 2023 2023-05-07 ")
    # a week spanning two months names both, once each
    assert date_terms("上周和上周五", MON_2_JAN, OFFSET) == (
        "December 2022 2022年12月 January 2023 2023年1月 "
        "2022-12-30 2022年12月30日 30 December 2022")


def test_date_terms_ignore_absolute_dates_and_plain_text() -> None:
    assert date_terms("2023年5月8日 and May 2023", MON_8_MAY, OFFSET) == ""
    assert date_terms("我们聊聊天吧", MON_8_MAY, OFFSET) == ""
