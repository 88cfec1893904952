"""How ``walkout serve`` serves the web apps: pages, deep links, caching, and the API first."""

from __future__ import annotations

from .conftest import Live


def test_the_shopper_app_is_served_at_app(live: Live) -> None:
    r = live.client.get("/app/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"  # a new release reaches phones at once
    assert '<script type="module" src="app.js">' in r.text

    r = live.client.get("/app")
    assert (r.status_code, r.headers["location"]) == (307, f"{live.url}/app/")


def test_deep_links_get_the_page_and_missing_files_a_404(live: Live) -> None:
    page = live.client.get("/app/").text
    r = live.client.get("/app/receipts/7")
    assert (r.status_code, r.text) == (200, page)
    assert live.client.get("/app/missing.js").status_code == 404


def test_scripts_and_the_manifest_have_their_types(live: Live) -> None:
    r = live.client.get("/shared/api.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=300"
    assert live.client.get("/app/sw.js").headers["cache-control"] == "no-cache"

    r = live.client.get("/app/manifest.webmanifest")
    assert r.headers["content-type"].startswith("application/manifest+json")
    manifest = r.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/app/",
        "/app/",
        "standalone",
    )
    for icon in manifest["icons"]:
        got = live.client.get(f"/app/{icon['src']}")
        assert got.status_code == 200
        assert got.headers["content-type"] == icon["type"]


def test_api_paths_take_precedence_over_the_apps(live: Live) -> None:
    r = live.client.get("/staff/disputes")
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"
    assert live.client.get("/health").json() == {"status": "ok"}
