"""CORS over HTTP: preflights answered or refused, and the headers of actual responses, from
``web_cors_options`` for every view and ``cors_options`` per view (which win)."""

from __future__ import annotations

import aiohttp
from strm.web import Blueprint, Request, ResourceOptions, Response, View

from conftest import WebApp, base_url

SHOP = "https://shop.example"
ADMIN = "https://admin.example"
EVIL = "https://evil.example"


def preflight(origin: str, method: str, headers: str = "") -> dict[str, str]:
    asked = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        asked["Access-Control-Request-Headers"] = headers
    return asked


async def test_preflights_and_responses_follow_the_global_and_the_view_options(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app(
        web_cors_options={
            SHOP: ResourceOptions(allow_methods=("GET",), max_age=600),
            # From the environment the setting is JSON: a mapping of the same fields.
            "*": {"allow_headers": ["x-token"], "expose_headers": ["x-count"]},
        }
    )

    @app.page("/orders")
    class Orders(View):
        async def get(self, request: Request) -> Response:
            return self.json([], headers={"X-Count": "0"})

        async def post(self, request: Request) -> Response:
            return self.json({"created": True}, status=201)

    @app.page(
        "/admin",
        cors_options={ADMIN: ResourceOptions(allow_credentials=True, allow_methods="*")},
    )
    class Admin(View):
        async def delete(self, request: Request) -> Response:
            return self.json({"deleted": True})

    async with app.running():
        url = base_url(app)
        async with http.options(url + "/orders", headers=preflight(SHOP, "GET")) as resp:
            assert resp.status == 200
            assert resp.headers["Access-Control-Allow-Origin"] == SHOP
            assert resp.headers["Access-Control-Allow-Methods"] == "GET"
            assert resp.headers["Access-Control-Max-Age"] == "600"
            assert "Access-Control-Allow-Credentials" not in resp.headers
        async with http.options(url + "/orders", headers=preflight(SHOP, "POST")) as resp:
            assert resp.status == 403  # the shop may only GET
            assert "POST" in (await resp.json())["error"]
        other = preflight(EVIL, "POST", "X-Token")
        async with http.options(url + "/orders", headers=other) as resp:
            assert resp.status == 200  # '*' allows any origin, the view's verbs
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert resp.headers["Access-Control-Allow-Headers"] == "x-token"
        bad_header = preflight(EVIL, "POST", "X-Secret")
        async with http.options(url + "/orders", headers=bad_header) as resp:
            assert resp.status == 403
        async with http.get(url + "/orders", headers={"Origin": EVIL}) as resp:
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert resp.headers["Access-Control-Expose-Headers"] == "x-count"
        async with http.get(url + "/orders") as resp:
            assert "Access-Control-Allow-Origin" not in resp.headers  # no Origin, no CORS
        admin = preflight(ADMIN, "DELETE")
        async with http.options(url + "/admin", headers=admin) as resp:
            assert resp.status == 200
            assert resp.headers["Access-Control-Allow-Origin"] == ADMIN
            assert resp.headers["Access-Control-Allow-Credentials"] == "true"
            assert resp.headers["Vary"] == "Origin"
        async with http.options(url + "/admin", headers=preflight(ADMIN, "GET")) as resp:
            assert resp.status == 403  # the view answers DELETE only
        async with http.delete(url + "/admin", headers={"Origin": ADMIN}) as resp:
            assert resp.headers["Access-Control-Allow-Origin"] == ADMIN
            assert resp.headers["Access-Control-Allow-Credentials"] == "true"


async def test_a_view_without_any_cors_options_answers_no_preflight(
    web_app: WebApp, http: aiohttp.ClientSession
) -> None:
    app = web_app()
    bp = Blueprint("users")

    @bp.route("/{name}/", cors_options={SHOP: ResourceOptions(allow_methods=["GET"])})
    async def user(self: View, request: Request, name: str) -> Response:
        return self.json({"name": name})

    @bp.route("/", name="list")
    async def users(self: View, request: Request) -> Response:
        return self.json([])

    bp.register(app, url_prefix="/users/")
    assert app.web.url_for("users:user", name="ann") == "/users/ann/"
    async with app.running():
        url = base_url(app)
        async with http.options(url + "/users/", headers=preflight(SHOP, "GET")) as resp:
            assert resp.status == 405
            assert "Access-Control-Allow-Origin" not in resp.headers
        async with http.options(url + "/users/ann/", headers=preflight(SHOP, "GET")) as resp:
            assert resp.status == 200
        async with http.get(url + "/users/ann/") as resp:
            assert await resp.json() == {"name": "ann"}
