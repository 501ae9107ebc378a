"""Export files for tests of the memory pages and backups."""

from __future__ import annotations

import json
from typing import Any

DAY = 86_400_000
T0 = 1_700_000_000_000


def make_export(entries: int = 3, messages: int = 2, summary_chars: int = 40,
                self_name: str = "小忆", user_name: str = "阿明") -> dict[str, Any]:
    """An export in the original format: ``entries`` diary entries, each with
    ``messages`` archived messages; entry i is about topic ``话题{i}``."""
    diary, archive = [], []
    for i in range(entries):
        uuid = f"00000000-0000-4000-8000-{i:012d}"
        start = T0 + i * DAY
        filler = ("我们聊了很多事情。" * (summary_chars // 9 + 1))[:summary_chars]
        diary.append({"uuid": uuid, "title": f"话题{i}的日记", "summary": f"话题{i}：{filler}",
                      "startTime": start, "endTime": start + 3_600_000})
        for j in range(messages):
            role = "user" if j % 2 == 0 else "assistant"
            archive.append({"role": role, "content": f"关于话题{i}的第{j}句话",
                            "timestamp": start + j * 1000, "belongTo": uuid})
    return {
        "selfName": self_name, "userName": user_name,
        "memoryAboutSelf": "我是小忆。", "memoryAboutUser": "阿明喜欢爬山。",
        "longTermMemory": diary, "shortTermMemory": [], "archivedMemory": archive,
        "currentSummary": "",
    }


def export_text(entries: int = 3, **kw: Any) -> str:
    return json.dumps(make_export(entries, **kw), ensure_ascii=False)
