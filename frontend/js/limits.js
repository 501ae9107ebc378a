// Notices of the optional services that are down ("degraded, not dead"): while one is,
// a line above the pages says what is limited, in the page's language; it goes when the
// service is back (events "service.health", docs/bridge-api.md; "service_health" on load).

import { call, on } from "./transport.js";
import { t, addStrings, onLangChange } from "./i18n.js";
import { el, toast } from "./ui.js";

addStrings({
  zh: {
    "limits.embeddings": "向量服务不可用：回忆暂时只用全文搜索",
    "limits.weather": "天气服务不可用：回复里暂时没有天气",
    "limits.tts": "语音朗读暂时不可用：回复先只显示文字",
    "limits.stt": "语音识别服务暂时不可用：请先打字输入",
    "limits.pictures": "图片服务暂时不可用：现在不能画图",
    "limits.s3": "S3 备份暂时连不上：现在不能备份或恢复",
    "limits.other": "{service} 暂时不可用，相关功能受限",
    "limits.back.embeddings": "向量服务恢复了，正在补上缺少的向量",
    "limits.filled": "补上了 {n} 个向量",
    "limits.filling": "正在补上向量：{done}/{total}（完成前回复会稍等）",
  },
  en: {
    "limits.embeddings": "Embedding service unreachable: recall uses full-text search for now",
    "limits.weather": "Weather service unavailable: replies leave the weather out for now",
    "limits.tts": "Speech service unavailable: replies are not read aloud for now",
    "limits.stt": "Transcription service unavailable: please type for now",
    "limits.pictures": "Image service unavailable: no pictures can be drawn for now",
    "limits.s3": "S3 backup unreachable: backups and restores cannot run for now",
    "limits.other": "{service} is unavailable for now; what needs it is limited",
    "limits.back.embeddings": "The embedding service is back; filling in the missing vectors",
    "limits.filled": "Filled in {n} vectors",
    "limits.filling": "Filling in vectors: {done}/{total} (replies wait until it is done)",
  },
});

/** The notice line, placed first in `root`; `load()` asks what is limited now. */
export function createLimits(root) {
  const box = el("div.limits#service-limits", { role: "status", hidden: true });
  root.prepend(box);
  const limited = new Map(); // service -> why (the service's own words, as a tooltip)

  const KNOWN = ["embeddings", "weather", "tts", "stt", "pictures", "s3"];
  const label = (service) => (KNOWN.includes(service) ? t(`limits.${service}`) : t("limits.other", { service }));

  let filling = null; // {done, total} while the missing vectors are filled in

  function render() {
    box.replaceChildren(
      ...[...limited].map(([service, why]) => el("div.limit", { text: label(service), title: why || null, dataset: { service } })),
      filling ? el("div.limit.filling", { text: t("limits.filling", filling) }) : null,
    );
    box.hidden = limited.size === 0 && !filling;
  }

  on("task.progress", (p) => {
    if (!p || p.task !== "vectors") return;
    filling = p.total && p.done < p.total ? { done: p.done, total: p.total } : null;
    render();
  });

  function show(list) {
    limited.clear();
    for (const item of list || []) limited.set(item.service, item.message || "");
    render();
  }

  on("service.health", (p) => {
    if (!p) return;
    if (p.filled) toast(t("limits.filled", { n: p.filled }));
    else if (p.ok && p.service === "embeddings" && limited.has(p.service)) toast(t("limits.back.embeddings"));
    show(p.limited);
  });
  onLangChange(render);

  return {
    async load() {
      const res = await call("service_health");
      if (res.ok) show(res.limited);
    },
  };
}
