// Work on the floor: restock and misplaced-item tasks, ID checks for age-restricted products
// (GET /staff/tasks), and order-ahead pickups to pick, make ready and hand over at the window
// (GET /staff/orders; handed over with POST /pickup/handover). Both lists refresh every few seconds while the section is open.

import { h, replace } from "/shared/dom.js";
import { productNames } from "./products.js";

const REFRESH_MS = 5000;
/** Orders staff still act on, in the order they act. */
const OPEN_ORDERS = ["placed", "picking", "ready", "handing_over"];
/** The one-button step staff take on an order in each status (the rest are handed over). */
const NEXT_STEP = {
  placed: { path: "picking", label: "orders.startPicking" },
  picking: { path: "ready", label: "orders.markReady" },
};

export async function render(ctx, root) {
  const { t } = ctx;
  const taskList = h("div", { "aria-live": "polite" });
  const orderList = h("div", { "aria-live": "polite" });
  replace(
    root,
    h("h1", {}, t("tasks.title")),
    h(
      "section",
      { class: "panel", "aria-labelledby": "tasks-h" },
      h("h2", { id: "tasks-h" }, t("tasks.floor")),
      taskList,
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "orders-h" },
      h("h2", { id: "orders-h" }, t("orders.title")),
      orderList,
    ),
  );
  let drawn = "";
  async function refresh() {
    try {
      const [tasks, orders, names] = await Promise.all([
        ctx.api("/staff/tasks"),
        ctx.api(`/staff/orders?${OPEN_ORDERS.map((o) => `status=${o}`).join("&")}`),
        productNames(ctx),
      ]);
      const seen = JSON.stringify([tasks, orders]);
      if (seen === drawn) return; // redraw only on change: a half-typed code stays
      drawn = seen;
      keepingInputs(root, () => {
        drawTasks(ctx, taskList, tasks, names, refresh);
        drawOrders(ctx, orderList, orders, refresh);
      });
    } catch (e) {
      ctx.fail(e);
    }
  }
  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return () => clearInterval(timer);
}

/** Run `draw`, then put back what was typed into inputs that still exist (matched by id). */
function keepingInputs(root, draw) {
  const typed = [...root.querySelectorAll("input[id]")].map((i) => [i.id, i.value, i.checked]);
  const focused = document.activeElement?.id;
  draw();
  for (const [id, value, checked] of typed) {
    const input = document.getElementById(id);
    if (!input) continue;
    if (input.type === "checkbox") input.checked = checked;
    else input.value = value;
  }
  if (focused) document.getElementById(focused)?.focus();
}

async function act(ctx, path, body, refresh) {
  ctx.clearAlert();
  try {
    await ctx.api(path, { method: "POST", body });
  } catch (e) {
    ctx.fail(e);
  }
  await refresh();
}

function drawTasks(ctx, list, tasks, names, refresh) {
  const { t, i18n } = ctx;
  if (tasks.length === 0) {
    replace(list, h("p", { class: "muted" }, t("tasks.none")));
    return;
  }
  replace(
    list,
    h(
      "ul",
      { class: "list" },
      tasks.map((task) => {
        const product = names.get(task.sku) ?? task.sku;
        const actions =
          task.kind === "age_check"
            ? [
                h(
                  "button",
                  {
                    type: "button",
                    class: "primary small",
                    onclick: () =>
                      act(
                        ctx,
                        `/staff/visits/${task.visit_id}/age-check`,
                        { confirmed: true },
                        refresh,
                      ),
                  },
                  t("tasks.idOk"),
                ),
                h(
                  "button",
                  {
                    type: "button",
                    class: "danger small",
                    onclick: () =>
                      act(
                        ctx,
                        `/staff/visits/${task.visit_id}/age-check`,
                        { confirmed: false },
                        refresh,
                      ),
                  },
                  t("tasks.refuse"),
                ),
              ]
            : [
                h(
                  "button",
                  {
                    type: "button",
                    class: "small",
                    "aria-label": t("tasks.doneFor", { what: t(`task.${task.kind}`), product }),
                    onclick: () => act(ctx, `/staff/tasks/${task.id}/done`, undefined, refresh),
                  },
                  t("tasks.done"),
                ),
              ];
        return h(
          "li",
          { "data-task": task.id },
          h(
            "span",
            { class: "grow" },
            h(
              "span",
              { class: `badge ${task.kind === "restock" ? "warn" : "bad"}` },
              t(`task.${task.kind}`),
            ),
            " ",
            h("strong", {}, product),
            h("br"),
            h(
              "span",
              { class: "muted" },
              t(`task.${task.kind}.detail`, {
                plate: task.plate,
                qty: task.qty,
                visit: task.visit_id,
              }),
              " · ",
              i18n.dateTime(task.opened_at),
            ),
          ),
          h("span", { class: "actions" }, actions),
        );
      }),
    ),
  );
}

function drawOrders(ctx, list, orders, refresh) {
  const { t, i18n } = ctx;
  const open = orders
    .filter((o) => OPEN_ORDERS.includes(o.status))
    .sort((a, b) => a.slot_start.localeCompare(b.slot_start));
  if (open.length === 0) {
    replace(list, h("p", { class: "muted" }, t("orders.none")));
    return;
  }
  replace(
    list,
    open.map((order) => {
      const code = h("input", { id: `code-${order.id}`, autocomplete: "off" });
      const idChecked = h("input", { id: `id-${order.id}`, type: "checkbox" });
      const step = NEXT_STEP[order.status];
      let actions;
      if (step) {
        actions = h(
          "button",
          {
            type: "button",
            class: "primary",
            onclick: () => act(ctx, `/staff/orders/${order.id}/${step.path}`, undefined, refresh),
          },
          t(step.label),
        );
      } else {
        actions = h(
          "form",
          {
            class: "handover",
            onsubmit: (event) => {
              event.preventDefault();
              act(
                ctx,
                "/pickup/handover",
                { code: code.value.trim(), order_id: order.id, id_checked: idChecked.checked },
                refresh,
              );
            },
          },
          h("label", { for: `code-${order.id}` }, t("orders.code")),
          code,
          order.restricted
            ? h("label", { class: "check" }, idChecked, " ", t("orders.idChecked"))
            : null,
          h("p", {}, h("button", { type: "submit", class: "primary" }, t("orders.handOver"))),
        );
      }
      return h(
        "article",
        { class: "order", "data-order": order.id },
        h(
          "header",
          { class: "row" },
          h("h3", { class: "grow" }, t("orders.order", { id: order.id })),
          h("span", { class: "badge" }, t(`order.${order.status}`)),
          h("span", { class: "amount" }, i18n.money(order.total, order.currency)),
        ),
        h(
          "p",
          { class: "muted" },
          t(`orders.mode.${order.mode}`, { bay: order.bay ?? "–", vehicle: order.vehicle ?? "" }),
          " · ",
          i18n.dateTime(order.slot_start),
          order.restricted ? ` · ${t("orders.restricted")}` : "",
        ),
        h(
          "ul",
          { class: "picks", "aria-label": t("orders.picks") },
          order.picks.map((p) => h("li", {}, `${p.qty} × ${p.name}`)),
        ),
        actions,
      );
    }),
  );
}
