// The review queue: receipts the engine was unsure of, held before capture. A receipt shows
// each line with the shelf events behind it (the plate's weight trace, who was near, the
// candidate products with their chances). Staff approve it as it is, correct it in one click
// (take another candidate for one event) or edit the quantities; the service then rewrites
// the receipt, captures the corrected total and moves the stock (POST .../approve). A receipt
// charged already can still be lowered: the difference is refunded (POST .../correct).

import { h, replace } from "/shared/dom.js";
import { traceChart } from "./chart.js";
import { productNames } from "./products.js";

/** How often the queue looks for newly held receipts. */
const REFRESH_MS = 5000;

export async function render(ctx, root, [id]) {
  if (id) return renderReceipt(ctx, root, Number(id));
  return renderQueue(ctx, root);
}

function percent(p) {
  return `${Math.round(p * 100)}%`;
}

function confidenceBadge(ctx, p) {
  const kind = p >= 0.9 ? "ok" : p >= 0.6 ? "warn" : "bad";
  return h("span", { class: `badge ${kind}` }, ctx.t("reviews.confidence", { p: percent(p) }));
}

async function renderQueue(ctx, root) {
  const { t, i18n } = ctx;
  const number = h("input", { id: "receipt-id", type: "number", min: 1, required: true });
  const open = h(
    "form",
    {
      class: "row open-receipt",
      onsubmit: (event) => {
        event.preventDefault();
        ctx.navigate(`#/reviews/${Number(number.value)}`);
      },
    },
    h("div", {}, h("label", { for: "receipt-id" }, t("reviews.openLabel")), number),
    h("button", { type: "submit" }, t("reviews.open")),
  );
  const queue = h("div", { "aria-live": "polite" });
  replace(root, h("h1", {}, t("reviews.title")), open, queue);

  let drawn = "";
  async function refresh() {
    const held = await ctx.api("/staff/reviews");
    const seen = JSON.stringify(held);
    if (seen === drawn) return;
    drawn = seen;
    replace(
      queue,
      held.length === 0
        ? h("p", { class: "panel muted" }, t("reviews.empty"))
        : h(
            "ul",
            { class: "list panel", "aria-label": t("reviews.title") },
            held.map((r) =>
              h(
                "li",
                {},
                h(
                  "a",
                  { href: `#/reviews/${r.id}`, class: "grow" },
                  h("strong", {}, t("reviews.receipt", { id: r.id })),
                  " ",
                  h("span", { class: "muted" }, t("reviews.visit", { id: r.visit_id })),
                  h("br"),
                  h("span", { class: "muted" }, i18n.dateTime(r.issued_at)),
                ),
                confidenceBadge(ctx, r.confidence),
                h("span", { class: "amount" }, i18n.money(r.total, r.currency)),
              ),
            ),
          ),
    );
  }
  await refresh();
  const timer = setInterval(() => refresh().catch(ctx.fail), REFRESH_MS);
  return () => clearInterval(timer);
}

/** Dispute states whose units no longer count as charged. */
const CLAIMED = new Set(["pending", "approved", "refunded"]);

/** Units of a line still charged: its quantity less what its dispute or refund took off. */
function charged(line) {
  return line.qty - (line.dispute && CLAIMED.has(line.dispute.state) ? line.dispute.qty : 0);
}

/** The receipt's lines as {sku: qty}, the starting point of every correction. */
function quantities(receipt) {
  return Object.fromEntries(receipt.lines.map((line) => [line.sku, charged(line)]));
}

/** The lines if one shelf event had been `candidate` instead of what the engine chose. */
function withCandidate(receipt, line, event, candidate) {
  const qty = quantities(receipt);
  qty[line.sku] = Math.max(0, (qty[line.sku] ?? 0) - event.qty);
  qty[candidate.sku] = (qty[candidate.sku] ?? 0) + Math.abs(candidate.qty);
  return qty;
}

function asLines(qty) {
  return Object.entries(qty).map(([sku, units]) => ({ sku, qty: units }));
}

async function renderReceipt(ctx, root, id) {
  const { t, i18n } = ctx;
  const [receipt, names] = await Promise.all([ctx.api(`/receipts/${id}`), productNames(ctx)]);
  const name = (sku) => names.get(sku) ?? sku;
  const money = (minor) => i18n.money(minor, receipt.currency);
  const held = receipt.payment?.held === true;
  const captured = !held && receipt.payment?.state === "captured";

  async function decide(action, body) {
    ctx.clearAlert();
    for (const button of root.querySelectorAll("button")) button.disabled = true;
    try {
      const done = await ctx.api(`/staff/receipts/${id}/${action}`, { method: "POST", body });
      await renderReceipt(ctx, root, id);
      const payment = done.payment;
      root.querySelector(".result")?.replaceChildren(
        t("reviews.done", {
          total: money(done.total),
          state: payment ? t(`payment.${payment.state}`) : t("payment.none"),
        }),
        done.refunded ? ` ${t("reviews.refunded", { amount: money(done.refunded) })}` : "",
      );
    } catch (e) {
      for (const button of root.querySelectorAll("button")) button.disabled = false;
      ctx.fail(e);
    }
  }

  const approve = (body) => decide("approve", body);
  const draft = quantities(receipt);
  const qtyInput = (sku) =>
    h("input", {
      type: "number",
      min: 0,
      max: held ? 999 : draft[sku],
      value: draft[sku],
      id: `qty-${sku}`,
      class: "qty",
      oninput: (event) => {
        draft[sku] = Math.max(0, Number.parseInt(event.target.value || "0", 10));
      },
    });

  const lineCards = receipt.lines.map((line) =>
    h(
      "article",
      { class: "panel line", "data-sku": line.sku },
      h(
        "header",
        { class: "row" },
        h("h2", { class: "grow" }, line.name, " ", h("span", { class: "muted sku" }, line.sku)),
        confidenceBadge(ctx, line.confidence),
        h("span", { class: "amount" }, `${line.qty} × ${money(line.unit_price)}`),
      ),
      line.dispute
        ? h(
            "p",
            { class: "refund" },
            h("span", { class: "badge" }, t(`dispute.${line.dispute.state}`)),
            " ",
            t("reviews.disputed", {
              qty: line.dispute.qty,
              amount: money(line.dispute.amount),
              reason: line.dispute.reason,
            }),
          )
        : null,
      held || captured
        ? h(
            "div",
            { class: "row edit" },
            h("label", { for: `qty-${line.sku}` }, t(held ? "reviews.qty" : "reviews.qtyTaken")),
            qtyInput(line.sku),
          )
        : null,
      (line.evidence ?? []).map((event) =>
        evidenceBlock(ctx, receipt, line, event, name, held, approve),
      ),
    ),
  );

  const addSelect = h(
    "select",
    { id: "add-sku" },
    h("option", { value: "" }, t("reviews.addNone")),
    [...names.entries()]
      .filter(([sku]) => !(sku in draft))
      .sort((a, b) => a[1].localeCompare(b[1]))
      .map(([sku, label]) => h("option", { value: sku }, label)),
  );
  const addQty = h("input", { id: "add-qty", type: "number", min: 1, max: 999, value: 1 });

  function corrected() {
    const qty = { ...draft };
    if (addSelect.value)
      qty[addSelect.value] = (qty[addSelect.value] ?? 0) + Number(addQty.value || 1);
    return qty;
  }

  replace(
    root,
    h("p", {}, h("a", { href: "#/reviews" }, `← ${t("reviews.back")}`)),
    h(
      "section",
      { class: "panel summary" },
      h("h1", {}, t("reviews.receipt", { id: receipt.id })),
      h(
        "p",
        { class: "row" },
        h("span", {}, t("reviews.visit", { id: receipt.visit_id })),
        confidenceBadge(ctx, receipt.confidence),
        h("span", { class: "amount total" }, money(receipt.total)),
      ),
      h(
        "p",
        { class: "muted" },
        receipt.payment
          ? [
              t("reviews.payment", { state: t(`payment.${receipt.payment.state}`) }),
              held ? ` ${t("reviews.held")}` : "",
              receipt.reviewed_at
                ? ` ${t("reviews.reviewedAt", { at: i18n.dateTime(receipt.reviewed_at) })}`
                : "",
            ]
          : t("payment.none"),
      ),
      h("p", { class: "result", "aria-live": "polite" }),
    ),
    lineCards,
    receipt.lines.length === 0 ? h("p", { class: "panel muted" }, t("reviews.noLines")) : null,
    held
      ? h(
          "section",
          { class: "panel actions" },
          h("h2", {}, t("reviews.decide")),
          h(
            "div",
            { class: "row" },
            h("div", {}, h("label", { for: "add-sku" }, t("reviews.add")), addSelect),
            h("div", { class: "narrow" }, h("label", { for: "add-qty" }, t("reviews.qty")), addQty),
          ),
          h(
            "p",
            { class: "row buttons" },
            h(
              "button",
              { type: "button", class: "primary", onclick: () => approve({}) },
              t("reviews.approve"),
            ),
            h(
              "button",
              { type: "button", onclick: () => approve({ lines: asLines(corrected()) }) },
              t("reviews.saveCorrection"),
            ),
          ),
        )
      : null,
    captured && receipt.lines.length
      ? h(
          "section",
          { class: "panel actions" },
          h("h2", {}, t("reviews.afterCapture")),
          h("p", { class: "muted" }, t("reviews.afterCaptureHelp")),
          h(
            "p",
            { class: "row buttons" },
            h(
              "button",
              {
                type: "button",
                class: "primary",
                onclick: () => decide("correct", { lines: asLines(draft) }),
              },
              t("reviews.refund"),
            ),
          ),
        )
      : null,
    receipt.engine_lines?.length
      ? h(
          "section",
          { class: "panel audit", "aria-labelledby": "audit-h" },
          h("h2", { id: "audit-h" }, t("reviews.engineLines")),
          h(
            "ul",
            { class: "list" },
            receipt.engine_lines.map((line) =>
              h(
                "li",
                {},
                h("span", { class: "grow" }, line.name),
                h("span", { class: "muted" }, percent(line.confidence)),
                h("span", { class: "amount" }, `${line.qty} × ${money(line.unit_price)}`),
              ),
            ),
          ),
        )
      : null,
  );
}

function evidenceBlock(ctx, receipt, line, event, name, held, approve) {
  const { t } = ctx;
  const ev = event.evidence;
  const chosen = (c) => c.sku === line.sku && Math.abs(c.qty) === event.qty;
  const others = event.type === "item_added" ? ev.candidates.filter((c) => !chosen(c)) : [];
  return h(
    "div",
    { class: "evidence" },
    h(
      "h3",
      {},
      t(`reviews.${event.type}`, { qty: event.qty }),
      " ",
      h(
        "span",
        { class: "muted" },
        t("reviews.onPlate", { plate: ev.plate, t: event.t.toFixed(1) }),
      ),
    ),
    h(
      "p",
      { class: "muted" },
      t("reviews.delta", { grams: ev.delta_g.toFixed(0) }),
      " · ",
      t("reviews.person", { person: ev.person ?? "?", p: percent(ev.person_p) }),
    ),
    ev.trace
      ? traceChart(
          ev.trace,
          ev.t_start,
          ev.t_end,
          t("reviews.traceLabel", {
            plate: ev.plate,
            from: Math.round(ev.trace.grams[0]),
            to: Math.round(ev.trace.grams.at(-1)),
          }),
        )
      : null,
    ev.people?.length
      ? h(
          "table",
          { class: "people" },
          h("caption", {}, t("reviews.people")),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, t("reviews.who")),
              h("th", { scope: "col" }, t("reviews.where")),
              h("th", { scope: "col" }, t("reviews.hand")),
              h("th", { scope: "col" }, t("reviews.chance")),
            ),
          ),
          h(
            "tbody",
            {},
            ev.people.map((p) =>
              h(
                "tr",
                { class: p.person === ev.person ? "attributed" : null },
                h("td", {}, p.person),
                h("td", {}, `${p.x.toFixed(1)}, ${p.y.toFixed(1)} m`),
                h("td", {}, p.hand_m === null ? "–" : `${p.hand_m.toFixed(2)} m`),
                h("td", {}, p.p === null ? "–" : percent(p.p)),
              ),
            ),
          ),
        )
      : null,
    h(
      "ul",
      { class: "candidates", "aria-label": t("reviews.candidates") },
      ev.candidates.map((c) =>
        h(
          "li",
          { class: chosen(c) ? "chosen" : null },
          h("span", { class: "grow" }, `${name(c.sku)} × ${Math.abs(c.qty)}`),
          h("span", { class: "muted" }, percent(c.p)),
          chosen(c) ? h("span", { class: "badge" }, t("reviews.engineChoice")) : null,
          held && others.includes(c)
            ? h(
                "button",
                {
                  type: "button",
                  class: "small",
                  "aria-label": t("reviews.useCandidateFor", {
                    name: name(c.sku),
                    qty: Math.abs(c.qty),
                  }),
                  onclick: () =>
                    approve({ lines: asLines(withCandidate(receipt, line, event, c)) }),
                },
                t("reviews.useCandidate"),
              )
            : null,
        ),
      ),
    ),
  );
}
