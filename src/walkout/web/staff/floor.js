// The live floor: the store's plan (GET /store/layout) with its fixtures and plates, the
// plates coloured by stock level and the shoppers as dots with their cart counts, refreshed
// about once a second (GET /staff/floor). Choosing a plate shows its stock and latest events
// (GET /staff/plates/{plate}); choosing a shopper shows their visit's cart, lines and total
// (GET /staff/visits/{visit}/cart). Staff at work are drawn apart. Plates and shoppers are
// buttons: reachable with the keyboard, named for screen readers.

import { h, replace } from "/shared/dom.js";
import { s } from "./chart.js";

const REFRESH_MS = 1000;

/** The floor plan as SVG, in metres, y pointing up as in the store file. */
export function floorPlan(layout, label) {
  const b = layout.bounds;
  const margin = 0.5;
  const width = b.max_x - b.min_x + 2 * margin;
  const height = b.max_y - b.min_y + 2 * margin;
  const x = (v) => v - b.min_x + margin;
  const y = (v) => b.max_y - v + margin;
  const points = (ring) => ring.map(([px, py]) => `${x(px)},${y(py)}`).join(" ");
  const plan = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "floor-plan",
    role: "group",
    "aria-label": label,
  });
  plan.append(
    s("polygon", { class: "floor", points: points(layout.floor) }),
    ...layout.gates.map((g) => s("polygon", { class: `gate ${g.kind}`, points: points(g.area) })),
    ...layout.fixtures.map((f) => s("polygon", { class: "fixture", points: points(f.footprint) })),
  );
  return { plan, x, y };
}

/**
 * Where each plate is drawn: plates stacked on the shelves of one bay share a footprint, so
 * the footprint is cut into one strip per shelf (lowest first) along its shorter side, and
 * every plate stays visible and clickable from above.
 */
function plateRects(plates, { x, y }) {
  const stacks = new Map();
  for (const plate of plates) {
    const [[x0, y0], [x1, y1]] = plate.box;
    const key = [x0, y0, x1, y1].map((v) => v.toFixed(2)).join(",");
    if (!stacks.has(key)) stacks.set(key, []);
    stacks.get(key).push(plate);
  }
  const rects = new Map();
  for (const stack of stacks.values()) {
    stack.sort((a, b) => a.box[0][2] - b.box[0][2]);
    const [[x0, y0], [x1, y1]] = stack[0].box;
    const left = x(Math.min(x0, x1));
    const top = y(Math.max(y0, y1));
    const width = Math.max(Math.abs(x1 - x0), 0.05);
    const height = Math.max(Math.abs(y1 - y0), 0.05);
    stack.forEach((plate, i) => {
      const n = stack.length;
      rects.set(
        plate.id,
        width >= height
          ? { x: left, y: top + (height * i) / n, width, height: height / n }
          : { x: left + (width * i) / n, y: top, width: width / n, height },
      );
    });
  }
  return rects;
}

/** Make an SVG element act as a button: focusable, named, Enter/Space activate it. */
function asButton(el, label, onActivate) {
  el.setAttribute("role", "button");
  el.setAttribute("tabindex", "0");
  el.setAttribute("aria-label", label);
  el.addEventListener("click", onActivate);
  el.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      onActivate();
    }
  });
  return el;
}

export async function render(ctx, root) {
  const { t } = ctx;
  const layout = await ctx.api("/store/layout");
  const names = new Map(layout.products.map((p) => [p.sku, p.name]));
  const { plan, x, y } = floorPlan(layout, t("floor.map"));
  const plates = new Map();
  const platesLayer = s("g", { class: "plates" });
  const peopleLayer = s("g", { class: "people" });
  const counts = h("p", { class: "counts", "aria-live": "polite" });
  const detail = h(
    "section",
    { class: "panel detail", "aria-live": "polite" },
    h("p", { class: "muted" }, t("floor.pick")),
  );
  let selectedPlate = null;
  let selectedPerson = null;
  let shownItems = null; // the cart size the panel shows, to follow the chosen shopper's cart

  const where = plateRects(layout.plates, { x, y });
  for (const plate of layout.plates) {
    const rect = s("rect", {
      class: "plate unknown",
      "data-plate": plate.id,
      ...where.get(plate.id),
    });
    asButton(rect, t("floor.plateLabel", { plate: plate.id, state: t("stock.unknown") }), () =>
      showPlate(plate.id),
    );
    plates.set(plate.id, rect);
    platesLayer.append(rect);
  }
  plan.append(platesLayer, peopleLayer);

  async function showPlate(id) {
    plates.get(selectedPlate)?.classList.remove("selected");
    selectedPlate = id;
    plates.get(id)?.classList.add("selected");
    selectedPerson = null;
    try {
      const found = await ctx.api(`/staff/plates/${encodeURIComponent(id)}`);
      replace(
        detail,
        h("h2", {}, t("floor.plate", { plate: found.plate })),
        h(
          "ul",
          { class: "list facings" },
          found.facings.map((f) =>
            h(
              "li",
              {},
              h("span", { class: "grow" }, f.name),
              h("span", { class: `badge stock-${f.state}` }, t(`stock.${f.state}`)),
              h(
                "span",
                { class: "amount" },
                f.units === null ? "?" : t("floor.units", { units: f.units }),
              ),
            ),
          ),
        ),
        h("h3", {}, t("floor.events")),
        found.events.length === 0
          ? h("p", { class: "muted" }, t("floor.noEvents"))
          : h(
              "ul",
              { class: "list events" },
              found.events.map((e) =>
                h(
                  "li",
                  {},
                  h(
                    "span",
                    { class: "grow" },
                    t(`floor.${e.type}`, { qty: e.qty, name: names.get(e.sku) ?? e.sku }),
                    h("br"),
                    h(
                      "span",
                      { class: "muted" },
                      t("reviews.visit", { id: e.visit_id }),
                      " · ",
                      ctx.i18n.dateTime(e.received_at),
                    ),
                  ),
                  h("span", { class: "muted" }, `${Math.round(e.confidence * 100)}%`),
                ),
              ),
            ),
      );
    } catch (e) {
      ctx.fail(e);
    }
  }

  async function showPerson(person) {
    plates.get(selectedPlate)?.classList.remove("selected");
    selectedPlate = null;
    selectedPerson = person.person;
    shownItems = person.cart_items;
    const title = h(
      "h2",
      {},
      t(person.staff ? "floor.staffMember" : "floor.shopper", { person: person.person }),
    );
    if (person.visit_id === null) {
      replace(detail, title, h("p", { class: "muted" }, t("floor.noVisit")));
      return;
    }
    try {
      const cart = await ctx.api(`/staff/visits/${person.visit_id}/cart`);
      if (selectedPerson !== person.person) return; // another dot was chosen meanwhile
      const money = (minor) => ctx.i18n.money(minor, cart.currency);
      replace(
        detail,
        title,
        h(
          "p",
          { class: "row" },
          h("span", { class: "grow" }, t("reviews.visit", { id: cart.visit_id })),
          h("span", { class: "amount total" }, money(cart.total)),
        ),
        cart.lines.length === 0
          ? h("p", { class: "muted" }, t("floor.emptyCart"))
          : h(
              "ul",
              { class: "list cart-lines", "aria-label": t("floor.cart") },
              cart.lines.map((line) =>
                h(
                  "li",
                  {},
                  h("span", { class: "grow" }, `${line.qty} × ${line.name ?? line.sku}`),
                  h("span", { class: "amount" }, money(line.amount)),
                ),
              ),
            ),
      );
    } catch (e) {
      ctx.fail(e);
    }
  }

  const units = new Map();
  function draw(live) {
    const low = live.plates.filter((p) => p.state === "low" || p.state === "empty").length;
    counts.textContent = t("floor.counts", { people: live.people.length, low });
    for (const level of live.plates) {
      const rect = plates.get(level.plate);
      if (!rect) continue;
      const changed = units.has(level.plate) && units.get(level.plate) !== level.units;
      units.set(level.plate, level.units);
      if (changed && level.plate === selectedPlate) showPlate(level.plate); // its events too
      rect.setAttribute(
        "class",
        `plate ${level.state}${level.plate === selectedPlate ? " selected" : ""}`,
      );
      rect.setAttribute(
        "aria-label",
        t("floor.plateLabel", { plate: level.plate, state: t(`stock.${level.state}`) }),
      );
    }
    const chosen = live.people.find((p) => p.person === selectedPerson);
    if (chosen && chosen.cart_items !== shownItems) showPerson(chosen); // its lines changed
    peopleLayer.replaceChildren(
      ...live.people.map((person) => {
        const dot = s(
          "g",
          {
            class: person.staff ? "shopper staff" : "shopper",
            "data-person": person.person,
            transform: `translate(${x(person.x)},${y(person.y)})`,
          },
          s("circle", { r: 0.35 }),
          s("text", { "text-anchor": "middle", dy: "0.14" }, String(person.cart_items)),
        );
        return asButton(
          dot,
          t(person.staff ? "floor.staffLabel" : "floor.shopperLabel", {
            person: person.person,
            n: person.cart_items,
          }),
          () => showPerson(person),
        );
      }),
    );
  }

  replace(
    root,
    h("h1", {}, t("floor.title")),
    counts,
    h("div", { class: "floor-layout" }, h("div", { class: "panel map" }, plan, legend(t)), detail),
  );

  let busy = false;
  async function refresh() {
    if (busy) return; // a slow answer: skip a beat rather than pile up requests
    busy = true;
    try {
      draw(await ctx.api("/staff/floor"));
    } catch (e) {
      ctx.fail(e);
    } finally {
      busy = false;
    }
  }
  await refresh();
  const timer = setInterval(refresh, REFRESH_MS);
  return () => clearInterval(timer);
}

function legend(t) {
  return h(
    "ul",
    { class: "legend" },
    ["ok", "low", "empty", "unknown"].map((state) =>
      h(
        "li",
        {},
        h("span", { class: `swatch ${state}`, "aria-hidden": "true" }),
        t(`stock.${state}`),
      ),
    ),
  );
}
