// Order ahead: search the catalogue (meal kits with what is in them), suggestions from the
// shopper's own history, a basket, a pickup slot and mode; then the order's status and its
// pickup QR, which the app keeps current until the order is collected.

import { api, ApiError } from "/shared/api.js";
import { h, replace } from "/shared/dom.js";
import {
  errorBox,
  go,
  i18n,
  isAbort,
  keepAwake,
  later,
  money,
  screen,
  screenSignal,
  showSvg,
  t,
} from "./ui.js";

/** How long typing pauses before the search runs (ms). */
const SEARCH_DEBOUNCE_MS = 250;
/** How often an open order's screen checks its status (ms). */
const ORDER_POLL_MS = 2000;
/** Orders with a pickup code to show. */
const OPEN = ["placed", "picking", "ready", "handing_over"];
const FINAL = ["collected", "canceled", "no_show"];
const STATUS_BADGE = { ready: "ok", collected: "ok", canceled: "bad", no_show: "bad" };

/** The basket being put together: sku -> {product, qty}. Kept while the app is open. */
const basket = new Map();

function basketTotal() {
  let total = 0;
  for (const { product, qty } of basket.values()) total += product.price * qty;
  return total;
}

export async function orderScreen() {
  const results = h("ul", { class: "list", id: "catalog", "aria-live": "polite" });
  const summary = h("section", { class: "panel", id: "basket", "aria-live": "polite" });
  const search = h("input", { id: "search", type: "search", autocomplete: "off" });
  const suggestions = h("section", { id: "suggestions" });

  function renderBasket() {
    const currency = [...basket.values()][0]?.product.currency;
    if (!basket.size) return replace(summary, h("p", { class: "muted" }, t("order.basketEmpty")));
    replace(
      summary,
      h("h2", {}, t("order.basket")),
      h(
        "ul",
        { class: "list" },
        [...basket.values()].map(({ product, qty }) =>
          h(
            "li",
            { "data-sku": product.sku },
            h("span", { class: "line-name" }, product.name),
            h("span", { class: "muted" }, `× ${qty}`),
            h("span", { class: "amount" }, money(product.price * qty, currency)),
          ),
        ),
      ),
      h(
        "p",
        { class: "total" },
        h("span", {}, t("cart.total")),
        h("span", { class: "amount" }, money(basketTotal(), currency)),
      ),
      h("a", { class: "button primary", href: "#/orders/new" }, t("order.checkout")),
    );
  }

  function add(product) {
    const line = basket.get(product.sku) ?? { product, qty: 0 };
    line.qty = Math.min(line.qty + 1, product.available);
    basket.set(product.sku, line);
    renderBasket();
  }

  function productItem(product) {
    const soldOut = product.available < 1;
    const button = h(
      "button",
      {
        type: "button",
        disabled: soldOut,
        "aria-label": t("order.addNamed", { name: product.name }),
      },
      t(soldOut ? "order.soldOut" : "order.add"),
    );
    button.addEventListener("click", () => add(product));
    return h(
      "li",
      { class: "wrap", "data-sku": product.sku },
      h(
        "div",
        { class: "line-name" },
        h("strong", {}, product.name),
        product.kit && h("span", { class: "badge ok" }, ` ${t("order.kit")}`),
        product.restricted && h("span", { class: "badge warn" }, ` ${t("order.idCheck")}`),
        product.kit &&
          h(
            "p",
            { class: "muted" },
            t("order.contains"),
            " ",
            product.components.map((c) => `${c.name} × ${c.qty}`).join(", "),
          ),
      ),
      h("span", { class: "amount" }, money(product.price, product.currency)),
      button,
    );
  }

  async function find() {
    try {
      const q = search.value.trim();
      const page = await api(`/catalog?limit=30${q ? `&q=${encodeURIComponent(q)}` : ""}`, {
        signal: screenSignal(),
      });
      replace(
        results,
        page.items.length
          ? page.items.map(productItem)
          : h("li", { class: "empty" }, t("order.noMatch")),
      );
    } catch (e) {
      if (!isAbort(e)) replace(results, h("li", { class: "error" }, String(e.detail ?? e)));
    }
  }

  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(find, SEARCH_DEBOUNCE_MS);
  });

  screen(
    "order.title",
    h("p", {}, h("a", { href: "#/orders" }, t("order.myOrders"))),
    suggestions,
    summary,
    h("label", { for: "search" }, t("order.search")),
    search,
    h("section", { class: "panel" }, results),
  );
  renderBasket();
  await Promise.all([find(), showSuggestions(suggestions, add)]);
}

/** Favourites from the shopper's own baskets, when they turned personalisation on. */
async function showSuggestions(section, add) {
  let found;
  try {
    found = await api("/me/suggestions?limit=5", { signal: screenSignal() });
  } catch (e) {
    if (e instanceof ApiError && e.code === "consent_required") {
      return replace(
        section,
        h(
          "p",
          { class: "muted" },
          t("order.suggestOff"),
          " ",
          h("a", { href: "#/account" }, t("order.suggestTurnOn")),
        ),
      );
    }
    throw e;
  }
  if (!found.favourites.length) return replace(section);
  const catalog = await Promise.all(
    found.favourites.map((f) =>
      api(`/catalog?q=${encodeURIComponent(f.sku)}&limit=1`, { signal: screenSignal() }),
    ),
  );
  replace(
    section,
    h("h2", {}, t("order.favourites")),
    h(
      "ul",
      { class: "list panel" },
      catalog
        .map((page) => page.items[0])
        .filter(Boolean)
        .map((product) => {
          const button = h(
            "button",
            {
              type: "button",
              disabled: product.available < 1,
              "aria-label": t("order.addNamed", { name: product.name }),
            },
            t("order.add"),
          );
          button.addEventListener("click", () => add(product));
          return h(
            "li",
            {},
            h("span", { class: "line-name" }, product.name),
            h("span", { class: "amount" }, money(product.price, product.currency)),
            button,
          );
        }),
    ),
  );
}

/** Checkout: the slot and the pickup mode, then the card hold. */
export async function checkoutScreen() {
  if (!basket.size) return go("order");
  const slots = (await api("/pickup/slots")).filter((s) => s.remaining > 0);
  const error = errorBox();
  const currency = [...basket.values()][0].product.currency;
  const slot = h(
    "select",
    { id: "slot", required: true },
    slots.map((s) =>
      h(
        "option",
        { value: s.start },
        `${i18n.dateTime(s.start)} – ${new Intl.DateTimeFormat(i18n.lang, { timeStyle: "short" }).format(new Date(s.end))}`,
      ),
    ),
  );
  const mode = (value) =>
    h(
      "label",
      { class: "row" },
      h("input", { type: "radio", name: "mode", value, checked: value === "drive_through" }),
      h("span", {}, t(`mode.${value}`)),
    );
  const vehicle = h("input", { id: "vehicle", autocomplete: "off", maxlength: 128 });
  const curb = h(
    "div",
    { hidden: true },
    h("label", { for: "vehicle" }, t("order.vehicle")),
    vehicle,
  );
  const place = h(
    "button",
    { class: "primary", type: "submit" },
    t("order.pay", { amount: money(basketTotal(), currency) }),
  );
  // One key per checkout: a retried tap cannot place (or charge) the order twice.
  const idempotencyKey = crypto.randomUUID();
  const form = h(
    "form",
    { class: "panel" },
    h("label", { for: "slot" }, t("order.slot")),
    slots.length ? slot : h("p", { class: "error" }, t("order.noSlots")),
    h("fieldset", {}, h("legend", {}, t("order.mode")), mode("drive_through"), mode("curb")),
    curb,
    h("p", { class: "muted" }, t("order.holdNote")),
    error,
    h("p", {}, place),
  );
  form.addEventListener("change", () => {
    curb.hidden = form.elements.mode.value !== "curb";
    vehicle.required = !curb.hidden;
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    place.disabled = true;
    const body = {
      lines: [...basket.values()].map(({ product, qty }) => ({ sku: product.sku, qty })),
      slot_start: slot.value,
      mode: form.elements.mode.value,
    };
    if (body.mode === "curb") body.vehicle = vehicle.value.trim();
    try {
      const order = await api("/orders", {
        method: "POST",
        body,
        headers: { "Idempotency-Key": idempotencyKey },
      });
      basket.clear();
      go(`orders/${order.id}`);
    } catch (e) {
      error.show(e);
      place.disabled = false;
    }
  });
  screen("order.checkoutTitle", form, h("p", {}, h("a", { href: "#/order" }, t("order.back"))));
}

function statusBadge(order) {
  return h(
    "span",
    { class: `badge ${STATUS_BADGE[order.status] ?? "warn"}`, "data-status": order.status },
    t(`status.${order.status}`),
  );
}

export async function ordersScreen() {
  const orders = await api("/orders");
  screen(
    "orders.title",
    orders.length
      ? h(
          "ul",
          { class: "list panel", id: "orders" },
          orders.map((o) =>
            h(
              "li",
              {},
              h("a", { href: `#/orders/${o.id}` }, i18n.dateTime(o.slot_start)),
              statusBadge(o),
              h("span", { class: "amount" }, money(o.total, o.currency)),
            ),
          ),
        )
      : h("p", { class: "empty" }, t("orders.none")),
    h("p", {}, h("a", { class: "button primary", href: "#/order" }, t("orders.new"))),
  );
}

export async function orderDetailScreen(id) {
  let order = await api(`/orders/${id}`);
  const status = h("p", { id: "order-status", "aria-live": "polite" });
  const code = h("section", { class: "panel qr-panel" });
  const cancel = h("button", { type: "button", class: "danger" }, t("orders.cancel"));
  const error = errorBox();
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    try {
      order = await api(`/orders/${id}/cancel`, { method: "POST" });
      show();
    } catch (e) {
      error.show(e);
      cancel.disabled = false;
    }
  });
  const image = h("img", { class: "qr", id: "pickup-qr", alt: t("orders.qrAlt") });
  let qrShown = false;

  async function show() {
    replace(
      status,
      statusBadge(order),
      " ",
      t(`orders.when.${order.mode}`, { when: i18n.dateTime(order.slot_start) }),
    );
    cancel.hidden = !order.cancelable;
    if (OPEN.includes(order.status) && !qrShown) {
      qrShown = true;
      replace(code, image, h("p", {}, t("orders.showCode")));
      keepAwake();
      await showSvg(
        image,
        await api(`/orders/${id}/pickup-qr.svg`, { raw: true, signal: screenSignal() }),
      );
    } else if (!OPEN.includes(order.status)) {
      qrShown = false;
      replace(code, h("p", {}, t(`orders.final.${order.status}`)));
    }
  }

  screen(
    "orders.detailTitle",
    status,
    code,
    h(
      "section",
      { class: "panel" },
      h(
        "ul",
        { class: "list", id: "order-lines" },
        order.lines.map((line) =>
          h(
            "li",
            { class: "wrap" },
            h(
              "span",
              { class: "line-name" },
              line.name,
              line.components.length > 0 &&
                h(
                  "span",
                  { class: "muted" },
                  ` (${line.components.map((c) => `${c.name} × ${c.qty}`).join(", ")})`,
                ),
            ),
            h("span", { class: "muted" }, `× ${line.qty}`),
            h("span", { class: "amount" }, money(line.amount, order.currency)),
          ),
        ),
      ),
      h(
        "p",
        { class: "total" },
        h("span", {}, t("cart.total")),
        h("span", { class: "amount" }, money(order.total, order.currency)),
      ),
    ),
    error,
    h("p", { class: "row" }, cancel),
    h("p", {}, h("a", { href: "#/orders" }, t("orders.all"))),
  );
  await show();

  // Staff pack it and hand it over: follow the status until the order is closed.
  async function poll() {
    try {
      order = await api(`/orders/${id}`, { signal: screenSignal() });
      await show();
    } catch (e) {
      if (isAbort(e)) return;
    }
    if (!FINAL.includes(order.status)) later(ORDER_POLL_MS, poll);
  }
  if (!FINAL.includes(order.status)) later(ORDER_POLL_MS, poll);
}
