// The walkout shopper app: sign up, add a card, show the entry QR, watch the live cart during
// a visit, read receipts and dispute a line. Screens are hash routes (#/cart, #/receipts/7) so
// the static server needs no routing and the back button works.

import { api, ApiError, session, streamEvents } from "/shared/api.js";
import { h, replace } from "/shared/dom.js";
import { checkoutScreen, orderDetailScreen, orderScreen, ordersScreen } from "./orders.js";
import {
  cardName,
  errorBox,
  errorText,
  go,
  i18n,
  isAbort,
  keepAwake,
  later,
  leave,
  onLeave,
  money,
  screen,
  screenSignal,
  showSvg,
  t,
} from "./ui.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

/** How often the entry screen looks for a visit the gate has just opened (ms). */
const VISIT_POLL_MS = 2000;
/** Fetch a fresh QR this long before the shown one expires (ms). */
const QR_MARGIN_MS = 5000;
/** Wait this long before reconnecting a dropped live cart stream (ms). */
const RECONNECT_MS = 1000;

// Tab icons: 24×24 stroke drawings (no emoji: their look depends on the phone's fonts).
const ICONS = {
  enter: "M4 4h6v6H4zM14 4h6v6h-6zM4 14h6v6H4zM14 14h2v2h-2zM18 18h2v2h-2zM14 18h2",
  cart: "M3 4h2l2.4 11h10.2L20 7H6.3M9 20h.01M17 20h.01",
  order: "M6 8h12l-1 12H7zM9 8V6a3 3 0 0 1 6 0v2",
  receipts: "M6 3h12v18l-3-2-3 2-3-2-3 2zM9 8h6M9 12h6M9 16h3",
  account: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0",
};

const TABS = ["enter", "cart", "order", "receipts", "account"];

function icon(name) {
  const span = h("span", { class: "glyph", "aria-hidden": "true" });
  // A constant of this file, never data: safe as markup.
  span.innerHTML = `<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="${ICONS[name]}"/></svg>`;
  return span;
}

function renderNav(current) {
  nav.hidden = !session.token;
  replace(
    nav,
    TABS.map((tab) =>
      h(
        "a",
        { href: `#/${tab}`, "aria-current": tab === current ? "page" : null },
        icon(tab),
        t(`tab.${tab}`),
      ),
    ),
  );
}

// ---- Sign up and sign in -------------------------------------------------------------------

function authScreen(mode) {
  const signUp = mode === "sign-up";
  const error = errorBox();
  const email = h("input", { id: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", {
    id: "password",
    type: "password",
    required: true,
    minlength: signUp ? 10 : null,
    autocomplete: signUp ? "new-password" : "current-password",
    "aria-describedby": signUp ? "password-hint" : null,
  });
  const submit = h(
    "button",
    { class: "primary", type: "submit" },
    t(signUp ? "auth.create" : "auth.signIn"),
  );
  const form = h(
    "form",
    { class: "panel", novalidate: true },
    h("label", { for: "email" }, t("auth.email")),
    email,
    h("label", { for: "password" }, t("auth.password")),
    password,
    signUp && h("p", { id: "password-hint", class: "muted" }, t("auth.passwordHint")),
    error,
    h("p", {}, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const credentials = { email: email.value, password: password.value };
      if (signUp) await api("/auth/sign-up", { method: "POST", body: credentials });
      const token = await api("/auth/sign-in", { method: "POST", body: credentials });
      session.token = token.access_token;
      // A shopper already in the store (the phone was switched, the app reinstalled) sees the
      // cart they are filling, not the entry code.
      go(signUp ? "cards" : (await currentVisit()) ? "cart" : "enter");
    } catch (e) {
      error.show(e);
      submit.disabled = false;
    }
  });
  screen(
    signUp ? "auth.signUpTitle" : "auth.signInTitle",
    h("p", { class: "muted" }, t("auth.pitch")),
    form,
    h(
      "p",
      {},
      h(
        "a",
        { href: signUp ? "#/sign-in" : "#/sign-up" },
        t(signUp ? "auth.haveAccount" : "auth.noAccount"),
      ),
    ),
  );
}

// ---- Entry: the QR, or why the gate would refuse ---------------------------------------------

/** The signed-in person's open visit, or null when they are not in the store. */
async function currentVisit(signal) {
  try {
    return await api("/visits/current", { signal });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

async function enterScreen() {
  const [status, visit] = await Promise.all([api("/entry/status"), currentVisit()]);
  if (!status.allowed) return refusedScreen(status);
  const image = h("img", { class: "qr", alt: t("enter.qrAlt"), id: "entry-qr" });
  const expiry = h("p", { class: "muted", "aria-live": "polite" });
  screen(
    "enter.title",
    h(
      "section",
      { class: "panel qr-panel" },
      image,
      // In the store already: the code lets someone in on the same visit (and bill).
      h("p", {}, t(visit ? "enter.group" : "enter.howTo")),
      h("p", { class: "muted" }, t("enter.brightness")),
      expiry,
    ),
    visit && h("p", {}, h("a", { class: "button primary", href: "#/cart" }, t("enter.backToCart"))),
  );
  keepAwake();
  let refreshed = -1;
  let next = null; // the one pending refresh
  async function refresh() {
    clearTimeout(next);
    try {
      const response = await api("/entry/qr.svg", { raw: true, signal: screenSignal() });
      // The token's lifetime by the server's clock, so a phone with a wrong clock still
      // refreshes in time.
      const expires = Date.parse(response.headers.get("X-Entry-Token-Expires-At"));
      const serverNow = Date.parse(response.headers.get("Date")) || expires - 30000;
      const lifetime = Math.max(expires - serverNow, 2000);
      await showSvg(image, response);
      image.dataset.refreshed = String(++refreshed);
      replace(expiry, t("enter.refreshes"));
      next = later(Math.max(lifetime - QR_MARGIN_MS, lifetime / 2), refresh);
    } catch (e) {
      if (isAbort(e)) return;
      replace(expiry, errorText(e));
      next = later(QR_MARGIN_MS, refresh);
    }
  }
  // A phone that slept may have let the shown token expire (timers pause): renew on waking.
  const onShow = () => document.visibilityState === "visible" && refresh();
  document.addEventListener("visibilitychange", onShow);
  onLeave(() => document.removeEventListener("visibilitychange", onShow));
  await refresh();
  if (!visit) watchForVisit();
}

/** Once the gate admits the shopper, the app turns to the live cart. */
function watchForVisit() {
  later(VISIT_POLL_MS, async () => {
    try {
      if (await currentVisit(screenSignal())) return go("cart");
    } catch (e) {
      if (isAbort(e)) return;
    }
    watchForVisit();
  });
}

async function refusedScreen(status) {
  const reason = t(`refused.${status.code}`);
  const known = reason !== `refused.${status.code}`;
  const panel = h(
    "section",
    { class: "panel notice", id: "entry-refused" },
    h("h2", {}, t("refused.title")),
    h("p", {}, known ? reason : status.detail),
  );
  screen("enter.title", panel);
  if (status.code === "no_payment_method") {
    panel.append(h("a", { class: "button primary", href: "#/cards" }, t("refused.addCard")));
  } else if (status.code === "unpaid_visit") {
    panel.append(await settleForm());
  }
}

/** Pay what a declined visit owes with one of the saved cards. */
async function settleForm() {
  const [receipts, cards] = await Promise.all([api("/receipts"), api("/cards")]);
  const owed = receipts.find((r) => r.payment && ["declined", "failed"].includes(r.payment.state));
  if (!owed || !cards.length)
    return h("a", { class: "button primary", href: "#/cards" }, t("refused.addCard"));
  const error = errorBox();
  const card = h(
    "select",
    { id: "settle-card" },
    cards.map((c) => h("option", { value: c.id }, cardName(c))),
  );
  const pay = h(
    "button",
    { class: "primary", type: "submit" },
    t("refused.pay", { amount: money(owed.payment.amount, owed.currency) }),
  );
  const form = h(
    "form",
    {},
    h("label", { for: "settle-card" }, t("refused.payWith")),
    card,
    error,
    h("p", {}, pay),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    pay.disabled = true;
    try {
      const result = await api(`/visits/${owed.visit_id}/settle`, {
        method: "POST",
        body: { card_id: Number(card.value) },
      });
      if (result.visit_status === "paid") return route();
      error.show(new ApiError(402, "card_declined", t("error.card_declined")));
    } catch (e) {
      error.show(e);
    }
    pay.disabled = false;
  });
  return form;
}

// ---- The live cart of the open visit --------------------------------------------------------

async function cartScreen() {
  const visit = await currentVisit();
  if (!visit) {
    return screen(
      "cart.title",
      h("p", { class: "empty" }, t("cart.none")),
      h("p", {}, h("a", { class: "button primary", href: "#/enter" }, t("cart.showQr"))),
    );
  }
  const state = h("p", { class: "muted", id: "visit-state", "aria-live": "polite" });
  const lines = h("ul", { class: "list", id: "cart-lines" });
  const total = h("p", { class: "total" });
  const after = h("div", { "aria-live": "polite" });
  screen(
    "cart.title",
    state,
    h(
      "section",
      { class: "panel", "aria-live": "polite", "aria-label": t("cart.title") },
      lines,
      total,
    ),
    after,
  );
  replace(state, t(`visit.${visit.status}`));

  function showCart(cart) {
    replace(
      lines,
      cart.lines.length
        ? cart.lines.map((line) =>
            h(
              "li",
              { "data-sku": line.sku },
              h(
                "span",
                { class: "line-name" },
                line.name,
                line.held_for_age_check &&
                  h("span", { class: "badge warn" }, ` ${t("cart.ageCheck")}`),
              ),
              h("span", { class: "muted" }, `× ${line.qty}`),
              h(
                "span",
                { class: "amount" },
                line.unit_price === null ? "—" : money(line.amount, cart.currency),
              ),
            ),
          )
        : h("li", { class: "empty" }, t("cart.empty")),
    );
    replace(
      total,
      h("span", {}, t("cart.total")),
      h("span", { class: "amount", id: "cart-total" }, money(cart.total, cart.currency)),
    );
  }

  function onUpdate(kind, update) {
    replace(state, t(`visit.${update.visit_status}`));
    if (update.cart) showCart(update.cart);
    if (update.receipt_id) {
      replace(
        after,
        h(
          "a",
          { class: "button primary", href: `#/receipts/${update.receipt_id}` },
          t("cart.seeReceipt"),
        ),
      );
    }
  }

  // Stream until the visit is paid or unpaid; reconnect (from a fresh snapshot) when dropped.
  let final = false;
  async function listen() {
    try {
      await streamEvents(
        "/visits/current/events",
        (kind, update) => {
          onUpdate(kind, update);
          final = ["paid", "unpaid"].includes(update.visit_status);
        },
        screenSignal(),
      );
    } catch (e) {
      if (isAbort(e)) return;
      if (e instanceof ApiError && e.status === 404) final = true;
    }
    if (!final) later(RECONNECT_MS, listen);
  }
  listen();
}

// ---- Receipts and disputes ------------------------------------------------------------------

const PAYMENT_BADGE = {
  captured: "ok",
  authorised: "ok",
  pending: "warn",
  declined: "bad",
  failed: "bad",
  canceled: "",
};
const DISPUTE_BADGE = {
  refunded: "ok",
  approved: "ok",
  pending: "warn",
  denied: "bad",
  failed: "bad",
};

function paymentBadge(receipt) {
  if (!receipt.payment) return h("span", { class: "badge" }, t("payment.none"));
  const state = receipt.payment.held ? "held" : receipt.payment.state;
  return h("span", { class: `badge ${PAYMENT_BADGE[state] ?? "warn"}` }, t(`payment.${state}`));
}

async function receiptsScreen() {
  const receipts = await api("/receipts");
  screen(
    "receipts.title",
    receipts.length
      ? h(
          "ul",
          { class: "list panel", id: "receipts" },
          receipts.map((r) =>
            h(
              "li",
              {},
              h("a", { href: `#/receipts/${r.id}` }, i18n.dateTime(r.issued_at)),
              paymentBadge(r),
              h("span", { class: "amount" }, money(r.total, r.currency)),
            ),
          ),
        )
      : h("p", { class: "empty" }, t("receipts.none")),
  );
}

async function receiptScreen(id) {
  const receipt = await api(`/receipts/${id}`);
  const lines = receipt.lines.map((line) => receiptLine(receipt, line));
  screen(
    "receipt.title",
    h("p", { class: "muted" }, i18n.dateTime(receipt.issued_at), " ", paymentBadge(receipt)),
    h("ul", { class: "list panel", id: "receipt-lines" }, lines),
    h(
      "section",
      { class: "panel" },
      h(
        "p",
        { class: "total" },
        h("span", {}, t("cart.total")),
        h("span", { class: "amount", id: "receipt-total" }, money(receipt.total, receipt.currency)),
      ),
      receipt.refunded > 0 &&
        h(
          "p",
          { class: "total" },
          h("span", {}, t("receipt.refunded")),
          h("span", { class: "amount" }, money(receipt.refunded, receipt.currency)),
        ),
    ),
    h("p", {}, h("a", { href: "#/receipts" }, t("receipt.back"))),
  );
}

function receiptLine(receipt, line) {
  const item = h(
    "li",
    { class: "wrap", "data-line": line.id },
    h("span", { class: "line-name" }, line.name),
    h("span", { class: "muted" }, `× ${line.qty}`),
    h("span", { class: "amount" }, money(line.amount, receipt.currency)),
  );
  if (line.dispute) {
    const d = line.dispute;
    item.append(
      h(
        "p",
        { class: "dispute-form" },
        h(
          "span",
          { class: `badge ${DISPUTE_BADGE[d.state] ?? ""}`, "data-dispute": d.state },
          t(`dispute.${d.state}`),
        ),
        " ",
        h("span", { class: "muted" }, money(d.amount, receipt.currency)),
      ),
    );
    return item;
  }
  const open = h("button", { type: "button" }, t("dispute.open"));
  open.addEventListener("click", () => {
    open.replaceWith(disputeForm(receipt, line));
  });
  item.append(open);
  return item;
}

function disputeForm(receipt, line) {
  const id = `reason-${line.id}`;
  const error = errorBox();
  const reason = h("textarea", { id, required: true, maxlength: 1000, rows: 3 });
  const qty =
    line.qty > 1
      ? h("input", {
          id: `qty-${line.id}`,
          type: "number",
          min: 1,
          max: line.qty,
          value: String(line.qty),
        })
      : null;
  const send = h("button", { class: "primary", type: "submit" }, t("dispute.send"));
  const form = h(
    "form",
    { class: "dispute-form" },
    h("label", { for: id }, t("dispute.reason", { name: line.name })),
    reason,
    qty && h("label", { for: `qty-${line.id}` }, t("dispute.qty")),
    qty,
    error,
    h("p", { class: "row" }, send),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!reason.value.trim()) return error.show(new ApiError(422, "reason_required", ""));
    send.disabled = true;
    try {
      const body = { line_id: line.id, reason: reason.value.trim() };
      if (qty) body.qty = Number(qty.value);
      await api(`/receipts/${receipt.id}/disputes`, { method: "POST", body });
      await receiptScreen(receipt.id);
    } catch (e) {
      error.show(e);
      send.disabled = false;
    }
  });
  queueMicrotask(() => reason.focus());
  return form;
}

// ---- Cards and account ----------------------------------------------------------------------

async function cardsScreen() {
  const cards = await api("/cards");
  const error = errorBox();
  const list = cards.length
    ? h(
        "ul",
        { class: "list", id: "cards" },
        cards.map((card, index) => {
          const remove = h(
            "button",
            {
              type: "button",
              class: "danger",
              "aria-label": t("cards.removeNamed", { last4: card.last4 }),
            },
            t("cards.remove"),
          );
          remove.addEventListener("click", async () => {
            remove.disabled = true;
            try {
              await api(`/cards/${card.id}`, { method: "DELETE" });
              await cardsScreen();
            } catch (e) {
              error.show(e);
              remove.disabled = false;
            }
          });
          return h(
            "li",
            {},
            h(
              "span",
              { class: "line-name" },
              cardName(card),
              index === 0 && h("span", { class: "badge ok" }, ` ${t("cards.charged")}`),
            ),
            remove,
          );
        }),
      )
    : h("p", { class: "muted" }, t("cards.none"));
  screen("cards.title", h("section", { class: "panel" }, list, error), addCardForm());
}

/**
 * The ledger provider's card form (demo stores). A production store uses Stripe's hosted
 * Elements instead, so card numbers never reach this app or the service (ADR 0011).
 */
function addCardForm() {
  const error = errorBox();
  const field = (id, key, attrs) => [
    h("label", { for: id }, t(key)),
    h("input", { id, required: true, ...attrs }),
  ];
  const [numberLabel, number] = field("card-number", "cards.number", {
    inputmode: "numeric",
    autocomplete: "cc-number",
    placeholder: "4242 4242 4242 4242",
  });
  const [monthLabel, month] = field("card-month", "cards.month", {
    type: "number",
    min: 1,
    max: 12,
    autocomplete: "cc-exp-month",
  });
  const [yearLabel, year] = field("card-year", "cards.year", {
    type: "number",
    min: 2000,
    max: 2200,
    autocomplete: "cc-exp-year",
  });
  const [cvcLabel, cvc] = field("card-cvc", "cards.cvc", {
    inputmode: "numeric",
    autocomplete: "cc-csc",
    maxlength: 4,
  });
  const add = h("button", { class: "primary", type: "submit" }, t("cards.add"));
  const form = h(
    "form",
    { class: "panel", id: "add-card" },
    h("h2", {}, t("cards.addTitle")),
    h("p", { class: "muted" }, t("cards.testNote")),
    numberLabel,
    number,
    h(
      "div",
      { class: "row" },
      h("div", {}, monthLabel, month),
      h("div", {}, yearLabel, year),
      h("div", {}, cvcLabel, cvc),
    ),
    error,
    h("p", {}, add),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    add.disabled = true;
    try {
      const card = {
        number: number.value,
        exp_month: Number(month.value),
        exp_year: Number(year.value),
        cvc: cvc.value,
      };
      const { token } = await api("/cards/ledger-token", { method: "POST", body: card });
      await api("/cards", { method: "POST", body: { token } });
      await cardsScreen();
    } catch (e) {
      error.show(e);
      add.disabled = false;
    }
  });
  return form;
}

async function accountScreen() {
  const [me, consent] = await Promise.all([api("/me"), api("/me/consent")]);
  const error = errorBox();
  const personalise = h("input", {
    id: "personalise",
    type: "checkbox",
    checked: consent.personalisation,
  });
  personalise.addEventListener("change", async () => {
    personalise.disabled = true;
    try {
      const saved = await api("/me/consent", {
        method: "PUT",
        body: { personalisation: personalise.checked },
      });
      personalise.checked = saved.personalisation;
      error.show(null);
    } catch (e) {
      personalise.checked = !personalise.checked;
      error.show(e);
    }
    personalise.disabled = false;
  });
  const signOut = h("button", { type: "button" }, t("account.signOut"));
  signOut.addEventListener("click", async () => {
    try {
      await api("/auth/sign-out", { method: "POST" });
    } finally {
      session.token = null;
      go("sign-in");
    }
  });
  screen(
    "account.title",
    h(
      "section",
      { class: "panel" },
      h("p", {}, t("account.signedInAs"), " ", h("strong", {}, me.email)),
      h("p", {}, h("a", { href: "#/cards" }, t("account.cards"))),
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, t("account.privacy")),
      h(
        "div",
        { class: "row switch" },
        personalise,
        h("label", { for: "personalise" }, t("account.personalise")),
      ),
      h("p", { class: "muted" }, t("account.personaliseNote")),
      error,
    ),
    h("p", {}, signOut),
  );
}

// ---- Routing --------------------------------------------------------------------------------

const SCREENS = {
  enter: enterScreen,
  cart: cartScreen,
  order: orderScreen,
  orders: (id) => {
    if (id === "new") return checkoutScreen();
    return id ? orderDetailScreen(Number(id)) : ordersScreen();
  },
  receipts: (id) => (id ? receiptScreen(Number(id)) : receiptsScreen()),
  cards: cardsScreen,
  account: accountScreen,
};

async function route() {
  leave();
  const [name = "", arg] = location.hash.replace(/^#\/?/, "").split("/");
  if (!session.token) {
    renderNav(null);
    return authScreen(name === "sign-up" ? "sign-up" : "sign-in");
  }
  const current = name in SCREENS ? name : "enter";
  renderNav({ cards: "account", orders: "order" }[current] ?? current);
  try {
    await SCREENS[current](arg);
  } catch (e) {
    if (isAbort(e)) return;
    const error = errorBox();
    screen("error.title", error);
    error.show(e);
  }
  main.focus({ preventScroll: true });
}

window.addEventListener("hashchange", route);
window.addEventListener("walkout:signed-out", () => go("sign-in"));
i18n.onChange(route);
document.getElementById("lang").append(i18n.switcher(() => t("language")));
route();

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("sw.js").catch(() => {}); // the app works without it
}
