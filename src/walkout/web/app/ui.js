// What every screen of the shopper app shares: the translator, the screen frame, error
// messages, money, and timers that stop when the screen is left.

import { ApiError } from "/shared/api.js";
import { h, replace } from "/shared/dom.js";
import { createI18n } from "/shared/i18n.js";
import { STRINGS } from "./strings.js";

export const i18n = createI18n(STRINGS);
export const { t } = i18n;
const main = document.getElementById("main");

// Everything a screen starts (timers, streams) stops when the screen is left.
let leaving = new AbortController();

/** Start a new screen: stop what the previous one started. */
export function leave() {
  leaving.abort();
  leaving = new AbortController();
}

/** The signal that aborts when the current screen is left (for fetches and streams). */
export function screenSignal() {
  return leaving.signal;
}

export function onLeave(stop) {
  leaving.signal.addEventListener("abort", stop, { once: true });
}

/** Run `fn` after `ms`, unless the screen is left first; the timer, for clearTimeout. */
export function later(ms, fn) {
  const timer = setTimeout(fn, ms);
  onLeave(() => clearTimeout(timer));
  return timer;
}

export function go(route) {
  location.hash = `#/${route}`;
}

export function isAbort(error) {
  return error?.name === "AbortError";
}

/** What to tell people about `error`: our own words for known codes, else the server's. */
export function errorText(error) {
  if (error instanceof ApiError) {
    const key = `error.${error.code}`;
    const known = t(key);
    return known === key ? error.detail : known;
  }
  return t("error.unexpected");
}

/** A live region that shows the last error of a form or screen: `box.show(error)`. */
export function errorBox() {
  const box = h("p", { class: "error", role: "alert" });
  box.show = (error) => replace(box, error ? errorText(error) : "");
  return box;
}

export function money(minor, currency) {
  return i18n.money(minor, currency);
}

const BRANDS = { visa: "Visa", mastercard: "Mastercard", amex: "American Express" };

/** A saved card as people know it: "Visa •••• 4242" (providers send lower-case brands). */
export function cardName(card) {
  const brand = BRANDS[card.brand] ?? card.brand.charAt(0).toUpperCase() + card.brand.slice(1);
  return `${brand} •••• ${card.last4}`;
}

/** Show a screen: its title (also the document's) and content. */
export function screen(titleKey, ...children) {
  document.title = `${t(titleKey)} · walkout`;
  replace(main, h("h1", {}, t(titleKey)), ...children);
}

/** Fetch an authorised SVG (a QR) and show it in `image`; the blob is freed on leaving. */
export async function showSvg(image, response) {
  const url = URL.createObjectURL(await response.blob());
  const previous = image.src;
  image.src = url;
  if (previous.startsWith("blob:")) URL.revokeObjectURL(previous);
  onLeave(() => URL.revokeObjectURL(url));
}

/** Keep the screen on while a QR is shown (where the browser allows it). */
export function keepAwake() {
  if (!("wakeLock" in navigator)) return;
  navigator.wakeLock
    .request("screen")
    .then((lock) => onLeave(() => lock.release()))
    .catch(() => {}); // not allowed (battery saver): the QR still works
}
