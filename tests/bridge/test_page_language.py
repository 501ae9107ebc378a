"""Under the language setting "auto", the companion talks to the reader of the page
that asks: in a browser (``dl-app serve``) its prompts and its voice follow the asking
page's language (``X-DL-Lang``, :data:`PAGE_LANG`), not the server's locale. In the
window no page names one: the system's. A chosen language stays whatever a page says."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bridge_helpers import Events, make_env, ok
from dl_app.bridge import Api
from dl_app.bridge.context import PAGE_LANG
from dl_app.core.cjk import has_ideograph
from servers.openai_compat import OpenAICompatServer


def system_prompt(server: OpenAICompatServer) -> str:
    messages = server.chat_requests[-1].body["messages"]
    return "\n".join(str(m["content"]) for m in messages if m["role"] == "system")


@contextmanager
def page(lang: str | None) -> Iterator[None]:
    """Calls as from a page showing ``lang`` (the HTTP server sets it from X-DL-Lang)."""
    said = PAGE_LANG.set(lang)
    try:
        yield
    finally:
        PAGE_LANG.reset(said)


def send_as_page(api: Api, lang: str | None, text: str) -> None:
    with page(lang):
        ok(api.chat_send({"text": text}))


def test_under_auto_the_companion_speaks_the_asking_pages_language(
        tmp_path: Path, openai_server: OpenAICompatServer) -> None:
    api = Api(tmp_path / "d", env=make_env(openai_server, LANG="en_US.UTF-8"), emit=Events())
    try:
        send_as_page(api, None, "hello")  # the window: the system's language
        assert not has_ideograph(system_prompt(openai_server))
        send_as_page(api, "zh", "hello again")  # a Chinese browser on an English server
        assert has_ideograph(system_prompt(openai_server))
        with page("zh"):  # the page is told the language the companion speaks
            info = ok(api.app_info())
        assert info["lang"] == "zh" and info["ui_lang_setting"] == "auto"
        history = [m["content"] for m in ok(api.chat_history())["messages"]]
        assert history[0::2] == ["hello", "hello again"]  # nothing lost on the way
        send_as_page(api, "en", "and in English")
        assert not has_ideograph(system_prompt(openai_server))

        ok(api.settings_set({"patch": {"language": "en"}}))  # chosen: it stays
        send_as_page(api, "zh", "still English")
        assert not has_ideograph(system_prompt(openai_server))
    finally:
        api.close()
