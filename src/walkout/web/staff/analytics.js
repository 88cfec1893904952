// Store analytics for the last seven days (GET /staff/analytics): visits per hour of the day,
// time in store, basket size, pick-to-purchase per product, with their CSV downloads; and the
// anonymous dwell heatmap over the floor plan (GET /staff/analytics/heatmap). Counts made up
// by too few visits come back null and are shown as such, never guessed.

import { h, replace } from "/shared/dom.js";
import { barChart, s } from "./chart.js";
import { floorPlan } from "./floor.js";

const CSV = ["products", "hours"];

function zone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

/** Save a CSV the API serves (a plain link cannot send the bearer token). */
async function download(ctx, name) {
  try {
    const response = await ctx.api(
      `/staff/analytics/${name}.csv?tz=${encodeURIComponent(zone())}`,
      {
        raw: true,
      },
    );
    const disposition = response.headers.get("Content-Disposition") ?? "";
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `${name}.csv`;
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: filename, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    ctx.fail(e);
  }
}

function figure(label, value) {
  return h("div", { class: "figure" }, h("dt", {}, label), h("dd", {}, value));
}

function distribution(ctx, title, found, unit) {
  const { t } = ctx;
  const shown = (v) => (v === null || v === undefined ? t("analytics.hidden") : unit(v));
  return h(
    "section",
    { class: "panel", "aria-label": title },
    h("h2", {}, title),
    found === null
      ? h("p", { class: "muted" }, t("analytics.hiddenAll"))
      : h(
          "dl",
          { class: "figures" },
          figure(t("analytics.count"), found.count ?? t("analytics.hidden")),
          figure(t("analytics.median"), shown(found.median)),
          figure(t("analytics.p90"), shown(found.p90)),
        ),
  );
}

function heatmapPlan(ctx, layout, heat) {
  const { plan, x, y } = floorPlan(layout, ctx.t("analytics.heatmapLabel"));
  const top = Math.max(...heat.seconds.flat(), 0);
  const cells = s("g", { class: "heat" });
  heat.seconds.forEach((row, r) =>
    row.forEach((seconds, c) => {
      if (seconds <= 0) return;
      const x0 = heat.origin[0] + c * heat.cell_m;
      const y0 = heat.origin[1] + r * heat.cell_m;
      cells.append(
        s(
          "rect",
          {
            x: x(x0),
            y: y(y0 + heat.cell_m),
            width: heat.cell_m,
            height: heat.cell_m,
            "fill-opacity": (0.15 + (0.75 * seconds) / top).toFixed(2),
          },
          s("title", {}, `${Math.round(seconds)} s`),
        ),
      );
    }),
  );
  plan.append(cells);
  return plan;
}

export async function render(ctx, root) {
  const { t, i18n } = ctx;
  const [report, layout, heat] = await Promise.all([
    ctx.api(`/staff/analytics?tz=${encodeURIComponent(zone())}`),
    ctx.api("/store/layout"),
    ctx.api("/staff/analytics/heatmap"),
  ]);
  const minutes = (seconds) => t("analytics.minutes", { n: (seconds / 60).toFixed(1) });
  const units = (n) => t("analytics.units", { n: Number(n).toFixed(1) });
  const hours = report.hours.filter((row) => row.visits !== null && row.visits > 0);
  replace(
    root,
    h("h1", {}, t("analytics.title")),
    h(
      "p",
      { class: "muted" },
      t("analytics.window", {
        since: i18n.dateTime(report.since),
        until: i18n.dateTime(report.until),
      }),
      " · ",
      t("analytics.minVisits", { n: report.min_visits }),
    ),
    h(
      "p",
      { class: "row buttons" },
      CSV.map((name) =>
        h(
          "button",
          { type: "button", class: "small", onclick: () => download(ctx, name) },
          t(`analytics.csv.${name}`),
        ),
      ),
    ),
    h(
      "div",
      { class: "overview" },
      h(
        "div",
        {},
        h(
          "section",
          { class: "panel" },
          h("h2", {}, t("analytics.visits")),
          h("p", { class: "big", "data-figure": "visits" }, report.visits ?? t("analytics.hidden")),
          report.suppressed
            ? h("p", { class: "muted" }, t("analytics.suppressed", { n: report.min_visits }))
            : null,
          hours.length
            ? barChart(
                hours.map((row) => ({
                  label: t("analytics.hour", { h: String(row.hour).padStart(2, "0") }),
                  value: row.visits,
                })),
                t("analytics.perHour"),
              )
            : null,
        ),
        h(
          "div",
          { class: "columns" },
          distribution(ctx, t("analytics.timeInStore"), report.time_in_store, minutes),
          distribution(ctx, t("analytics.basketSize"), report.basket_size, units),
        ),
      ),
      h(
        "section",
        { class: "panel" },
        h("h2", {}, t("analytics.heatmap")),
        h("p", { class: "muted" }, t("analytics.heatmapTotal", { minutes: minutes(heat.total_s) })),
        heatmapPlan(ctx, layout, heat),
      ),
    ),
    h(
      "section",
      { class: "panel" },
      h("h2", {}, t("analytics.products")),
      report.products.length === 0
        ? h("p", { class: "muted" }, t("analytics.noProducts"))
        : h(
            "div",
            { class: "scroll" },
            h(
              "table",
              { class: "products" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ["product", "picked", "putBack", "bought", "pickToPurchase"].map((k) =>
                    h("th", { scope: "col" }, t(`analytics.${k}`)),
                  ),
                ),
              ),
              h(
                "tbody",
                {},
                report.products.map((p) =>
                  h(
                    "tr",
                    { "data-sku": p.sku },
                    h("th", { scope: "row" }, p.name),
                    h("td", {}, p.picked),
                    h("td", {}, p.put_back),
                    h("td", {}, p.bought),
                    h(
                      "td",
                      {},
                      p.pick_to_purchase === null
                        ? "–"
                        : `${Math.round(p.pick_to_purchase * 100)}%`,
                    ),
                  ),
                ),
              ),
            ),
          ),
      report.products_suppressed
        ? h(
            "p",
            { class: "muted" },
            t("analytics.productsSuppressed", { n: report.products_suppressed }),
          )
        : null,
    ),
  );
}
