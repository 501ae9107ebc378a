"""First run of ``dl-app chat``: choose a chat model (the same choices as the
window's setup page), or, without a terminal, use the demo model and say so.

``prepare(stdin_tty)`` returns the environment to open the memory with (the
demo model is chosen for a piped run through ``DL_LLM_PROVIDER``, never saved)
or raises ``SetupCancelled``.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .. import first_run
from ..messages import render
from ..paths import data_dir as default_data_dir
from ..settings import load_settings
from ..wiring import resolve_lang

if TYPE_CHECKING:
    from ..memory import Memory

__all__ = ["SetupCancelled", "model_label", "prepare"]

T = {
    "en": {
        "intro": "Digital Life has no chat model yet. Which model should answer?",
        "ollama_found": "ollama on this computer ({n} models: {models})",
        "ollama_empty": "ollama on this computer (running, but no models yet)",
        "ollama_off": "ollama on this computer (not running)",
        "service": "DeepSeek, OpenAI or another OpenAI-compatible service (API key)",
        "demo": "the offline demo model: {name}, {size} MB — tiny, for trying the app",
        "demo_off": "the offline demo model (unavailable: {why})",
        "choice": "Choice [{default}]: ",
        "bad": "Type one of the numbers shown.",
        "pick_model": "Which ollama model?",
        "pick_service": "Which service?",
        "other": "another OpenAI-compatible service (type its address)",
        "address": "Service address (ends in /v1): ",
        "key": "API key (hidden; Enter for none): ",
        "model": "Model [{default}]: ",
        "model_plain": "Model: ",
        "testing": "Testing the connection...",
        "saved": "Saved. The model answering: {model}.",
        "failed": "That did not work: {why}",
        "again": "Back to the choices.",
        "cancelled": "setup cancelled: no chat model chosen (run `dl-app chat` again)",
        "piped_demo": "no chat model is set up yet; answering with the offline demo model "
        "{name} (tiny, for trying the app). Run `dl-app chat` in a terminal, or open the "
        "app, to choose a better one.",
        "piped_none": "no chat model is set up, and the demo model is unavailable ({why}); "
        "trying the default service at {url}.",
    },
    "zh": {
        "intro": "数字生命还没有设置对话模型。用哪个模型回答？",
        "ollama_found": "本机的 ollama（{n} 个模型：{models}）",
        "ollama_empty": "本机的 ollama（在运行，但还没有模型）",
        "ollama_off": "本机的 ollama（未运行）",
        "service": "DeepSeek、OpenAI 或其他兼容 OpenAI 的服务（需要 API 密钥）",
        "demo": "离线演示模型：{name}，{size} MB——很小，仅供试用",
        "demo_off": "离线演示模型（不可用：{why}）",
        "choice": "选择 [{default}]：",
        "bad": "请输入上面列出的数字。",
        "pick_model": "用 ollama 的哪个模型？",
        "pick_service": "哪个服务？",
        "other": "其他兼容 OpenAI 的服务（输入地址）",
        "address": "服务地址（以 /v1 结尾）：",
        "key": "API 密钥（输入时不显示；没有就直接回车）：",
        "model": "模型 [{default}]：",
        "model_plain": "模型：",
        "testing": "正在测试连接……",
        "saved": "已保存。回答的模型：{model}。",
        "failed": "没有成功：{why}",
        "again": "回到选项。",
        "cancelled": "已取消设置：没有选择对话模型（再次运行 `dl-app chat` 即可）",
        "piped_demo": "还没有设置对话模型；现在由离线演示模型 {name} 回答（很小，仅供试用）。"
        "在终端里运行 `dl-app chat` 或打开应用，可以选择更好的模型。",
        "piped_none": "还没有设置对话模型，演示模型也不可用（{why}）；尝试默认服务 {url}。",
    },
}


class SetupCancelled(Exception):
    """The user left the setup without choosing (end of input)."""


class _Prompter:
    def __init__(self, lang: str, out: TextIO, ask: Callable[[str], str],
                 secret: Callable[[str], str]) -> None:
        self.s = T[lang]
        self.out = out
        self._ask = ask
        self._secret = secret

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def ask(self, prompt: str, secret: bool = False) -> str:
        try:
            return (self._secret if secret else self._ask)(prompt).strip()
        except EOFError:
            raise SetupCancelled(self.s["cancelled"]) from None

    def menu(self, title: str, items: list[str], default: int = 1) -> int:
        """A numbered list; returns the 1-based choice."""
        self.say(title)
        for i, item in enumerate(items, 1):
            self.say(f"  {i}) {item}")
        while True:
            answer = self.ask(self.s["choice"].format(default=default)) or str(default)
            if answer.isdigit() and 1 <= int(answer) <= len(items):
                return int(answer)
            self.say(self.s["bad"])


def _interactive(data_dir: Path, env: Mapping[str, str], p: _Prompter) -> None:
    s = p.s
    while True:
        probe = first_run.probe_ollama(env=env)
        demo = first_run.demo_status(env)
        if probe.models:
            shown = ", ".join(probe.models[:4]) + (" ..." if len(probe.models) > 4 else "")
            ollama = s["ollama_found"].format(n=len(probe.models), models=shown)
        else:
            ollama = s["ollama_empty"] if probe.running else s["ollama_off"]
        demo_line = (s["demo"].format(name=demo.name, size=demo.size_mb) if demo.available
                     else s["demo_off"].format(why=render(demo.problem or "", _lang(p))))
        default = 1 if probe.models else (3 if demo.available else 2)
        choice = p.menu(s["intro"], [ollama, s["service"], demo_line], default)
        if choice == 1:
            if not probe.models:
                p.say(render(probe.message, _lang(p)))
                continue
            pick = p.menu(s["pick_model"], probe.models)
            if _service(data_dir, env, p, probe.base_url, probe.models[pick - 1], None):
                return
        elif choice == 2:
            labels = [label for _k, label, _u, _m in first_run.PRESETS] + [s["other"]]
            pick = p.menu(s["pick_service"], labels)
            if pick <= len(first_run.PRESETS):
                _k, _label, url, suggested = first_run.PRESETS[pick - 1]
            else:
                url, suggested = p.ask(s["address"]), ""
            key = p.ask(s["key"], secret=True)
            if suggested:
                model = p.ask(s["model"].format(default=suggested)) or suggested
            else:
                model = p.ask(s["model_plain"])
            if _service(data_dir, env, p, url, model, key):
                return
        else:
            if not demo.available:
                p.say(s["failed"].format(why=render(demo.problem or "", _lang(p))))
                continue
            first_run.apply_demo(data_dir, env)
            p.say(s["saved"].format(model=f"{demo.name} ({first_run.DEMO_NOTE[_lang(p)]})"))
            return
        p.say(s["again"])


def _lang(p: _Prompter) -> str:
    return "zh" if p.s is T["zh"] else "en"


def _service(data_dir: Path, env: Mapping[str, str], p: _Prompter, url: str, model: str,
             key: str | None) -> bool:
    if not url or not model:
        p.say(p.s["failed"].format(why=p.s["address"].rstrip(" :：")))
        return False
    p.say(p.s["testing"])
    check = first_run.apply_service(data_dir, env, url, model, key)
    if not check.ok:
        p.say(p.s["failed"].format(why=render(check.message, _lang(p))))
        return False
    p.say(render(check.message, _lang(p)))
    p.say(p.s["saved"].format(model=model))
    return True


def prepare(
    stdin_tty: bool,
    env: Mapping[str, str] | None = None,
    *,
    out: TextIO | None = None,
    ask: Callable[[str], str] = input,
    secret: Callable[[str], str] = getpass.getpass,
) -> Mapping[str, str]:
    """The environment for ``dl-app chat`` after the first-run setup (if needed)."""
    env = os.environ if env is None else env
    root = default_data_dir(env)
    if not first_run.setup_needed(root, env):
        return env
    lang = resolve_lang(load_settings(root, env).language, env)
    if stdin_tty:
        _interactive(root, env, _Prompter(lang, out or sys.stdout, ask, secret))
        return env
    demo = first_run.demo_status(env)
    if demo.available:
        print(f"dl-app: {T[lang]['piped_demo'].format(name=demo.name)}", file=sys.stderr)
        return {**env, "DL_LLM_PROVIDER": "demo"}
    url = load_settings(root, env).llm.base_url
    why = render(demo.problem or "", lang)
    print(f"dl-app: {T[lang]['piped_none'].format(why=why, url=url)}", file=sys.stderr)
    return env


def model_label(mem: Memory) -> str:
    """The answering model's name, with a note when it is the tiny demo model."""
    model = mem.model()
    if model.demo:
        lang = "zh" if mem.lang == "zh" else "en"
        return f"{model.name}, {first_run.DEMO_NOTE[lang]}"
    return model.name
