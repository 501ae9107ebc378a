// The voice feature's public entry points (other pages import from here):
// attachPushToTalk(button, { onText }) — a push-to-talk button for any page;
// createChatVoice(...) — voice in the chat page; voiceSettingsBox() — the settings panel.

export { attachPushToTalk } from "./ptt.js";
export { createChatVoice } from "./chat_voice.js";
export { voiceSettingsBox } from "./settings_box.js";
export { speakable, splitSentences, SentenceSplitter } from "./speech.js";
