// The staff console: sign-in for staff and managers, then four sections behind hash routes
// (#/floor, #/reviews[/id], #/tasks, #/analytics), so that no console path ever equals an API
// path under /staff/. Each section is a module whose render(ctx, root, params) draws into its
// own root element (left detached when the person has moved on meanwhile) and may return a
// function that stops its polling when the section is left.

import { api, ApiError, session } from "/shared/api.js";
import { h, replace } from "/shared/dom.js";
import { createI18n } from "/shared/i18n.js";
import * as analytics from "./analytics.js";
import * as floor from "./floor.js";
import * as reviews from "./reviews.js";
import { STRINGS } from "./strings.js";
import * as tasks from "./tasks.js";

const SECTIONS = { floor, reviews, tasks, analytics };
const STAFF_ROLES = new Set(["staff", "manager"]);

const i18n = createI18n(STRINGS);
const main = document.getElementById("main");
const nav = document.getElementById("nav");
const alertBox = document.getElementById("alert");
let me = null;
let stop = null;
let drawing = 0; // which route() call may still draw (a newer one wins)

/** Show an error (an ApiError's detail, else its message) where a screen reader hears it. */
function fail(error) {
  if (error?.name === "AbortError") return;
  console.error(error);
  alertBox.textContent = error instanceof ApiError ? error.detail : String(error?.message ?? error);
  alertBox.hidden = false;
}

function clearAlert() {
  alertBox.hidden = true;
  alertBox.textContent = "";
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

const ctx = { api, i18n, t: i18n.t, fail, clearAlert, navigate, me: () => me };

function drawNav(active) {
  replace(
    nav,
    Object.keys(SECTIONS).map((name) =>
      h(
        "a",
        { href: `#/${name}`, "aria-current": name === active ? "page" : null },
        i18n.t(`nav.${name}`),
      ),
    ),
  );
  nav.hidden = false;
}

function drawWho() {
  const who = document.getElementById("who");
  if (!me) {
    replace(who);
    return;
  }
  replace(
    who,
    h("span", { class: "muted who" }, `${me.email} · ${i18n.t(`role.${me.role}`)}`),
    h("button", { type: "button", class: "small", onclick: signOut }, i18n.t("signOut")),
  );
}

async function signOut() {
  try {
    await api("/auth/sign-out", { method: "POST", body: {} });
  } catch {
    // Signed out here either way.
  }
  session.token = null;
  me = null;
  route();
}

function signInForm() {
  const email = h("input", {
    id: "email",
    type: "email",
    autocomplete: "username",
    required: true,
  });
  const password = h("input", {
    id: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  async function submit(event) {
    event.preventDefault();
    clearAlert();
    try {
      const token = await api("/auth/sign-in", {
        method: "POST",
        body: { email: email.value, password: password.value },
      });
      session.token = token.access_token;
      const account = await api("/me");
      if (!STAFF_ROLES.has(account.role)) {
        session.token = null;
        throw new Error(i18n.t("signIn.staffOnly"));
      }
      me = account;
      route();
    } catch (e) {
      fail(e);
    }
  }
  return h(
    "form",
    { class: "panel sign-in", onsubmit: submit },
    h("h1", {}, i18n.t("signIn.title")),
    h("label", { for: "email" }, i18n.t("signIn.email")),
    email,
    h("label", { for: "password" }, i18n.t("signIn.password")),
    password,
    h("p", {}, h("button", { type: "submit", class: "primary" }, i18n.t("signIn.submit"))),
  );
}

async function route() {
  const turn = ++drawing;
  stop?.();
  stop = null;
  clearAlert();
  if (!me && session.token) {
    try {
      const account = await api("/me");
      if (STAFF_ROLES.has(account.role)) me = account;
    } catch {
      // An expired token: sign in again.
    }
    if (turn !== drawing) return;
  }
  drawWho();
  if (!me) {
    nav.hidden = true;
    replace(main, signInForm());
    return;
  }
  const [name, ...params] = location.hash.replace(/^#\/?/, "").split("/");
  const section = SECTIONS[name] ? name : "floor";
  drawNav(section);
  const root = h("div", { class: `section ${section}` });
  replace(main, root);
  try {
    const done = (await SECTIONS[section].render(ctx, root, params)) ?? null;
    if (turn === drawing) stop = done;
    else done?.();
  } catch (e) {
    if (turn === drawing) fail(e);
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("walkout:signed-out", () => {
  me = null;
  route();
});
i18n.onChange(route);
replace(
  document.getElementById("lang"),
  i18n.switcher(() => i18n.t("language")),
);
route();
