// Translations for the web apps: English and Korean dictionaries per app, the language taken
// from a saved choice, else the browser's, with a visible switch; <html lang> follows it.

export const LANGUAGES = { en: "English", ko: "한국어" };
const STORAGE_KEY = "walkout.lang";

function preferred() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved && saved in LANGUAGES) return saved;
  const browser = (navigator.languages?.[0] ?? navigator.language ?? "en").toLowerCase();
  return browser.startsWith("ko") ? "ko" : "en";
}

/**
 * The translator of one app. `dictionaries` is {en: {...}, ko: {...}} with the same keys;
 * values may hold {name} placeholders. A missing key shows as the key, so that it is noticed.
 */
export function createI18n(dictionaries) {
  let lang = preferred();
  const listeners = new Set();

  function apply() {
    document.documentElement.lang = lang;
    for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  }

  function t(key, params = {}) {
    const text = dictionaries[lang][key] ?? dictionaries.en[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? `{${name}}`));
  }

  function setLang(next) {
    if (!(next in LANGUAGES) || next === lang) return;
    lang = next;
    localStorage.setItem(STORAGE_KEY, next);
    apply();
    for (const listener of listeners) listener(next);
  }

  /** An amount in minor units of `currency`, in the language's format. */
  function money(minor, currency) {
    const format = new Intl.NumberFormat(lang, { style: "currency", currency });
    const digits = format.resolvedOptions().maximumFractionDigits;
    return format.format(minor / 10 ** digits);
  }

  function dateTime(iso) {
    return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(
      new Date(iso),
    );
  }

  /** A <select> that switches the language; `label()` names it for screen readers. */
  function switcher(label) {
    const select = document.createElement("select");
    select.className = "lang-switch";
    select.setAttribute("aria-label", label());
    for (const [code, name] of Object.entries(LANGUAGES)) {
      const option = new Option(name, code, false, code === lang);
      option.lang = code;
      select.append(option);
    }
    select.addEventListener("change", () => setLang(select.value));
    listeners.add((next) => {
      select.value = next;
      select.setAttribute("aria-label", label());
    });
    return select;
  }

  apply();
  return {
    t,
    money,
    dateTime,
    setLang,
    switcher,
    get lang() {
      return lang;
    },
    onChange: (listener) => listeners.add(listener),
  };
}
