import assert from "node:assert/strict";
import { ConfigError } from "../bus/errors.ts";
import { contentTypeOf, resolveStaticApp, StaticApp, wantsHtml } from "./static_app.ts";

async function site(): Promise<{ dir: string; outside: string }> {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-static-" });
  await Deno.mkdir(`${dir}/www/css`, { recursive: true });
  await Deno.writeTextFile(`${dir}/www/index.js`, "console.log(1);");
  await Deno.writeTextFile(`${dir}/www/css/a.css`, "body{}");
  await Deno.writeTextFile(`${dir}/app.html`, "<p>app</p>");
  const outside = `${dir}/secret.txt`;
  await Deno.writeTextFile(outside, "secret");
  await Deno.symlink(outside, `${dir}/www/link.txt`);
  return { dir, outside };
}

Deno.test("resolveStaticApp: defaults, rest_cherrypy block, api wins, errors name the option", async () => {
  const { dir } = await site();
  try {
    assert.deepEqual(resolveStaticApp({}), {
      staticDir: null,
      staticPath: "/static",
      appFile: null,
      appPath: "/app",
      htmlOverride: false,
    });
    const s = resolveStaticApp({
      rest_cherrypy: { static: `${dir}/www`, static_path: "/s/", app: `${dir}/app.html` },
      api: { app_path: "/ui" },
    });
    assert.equal(s.staticDir, await Deno.realPath(`${dir}/www`));
    assert.equal(s.staticPath, "/s");
    assert.equal(s.appPath, "/ui");
    assert.equal(s.htmlOverride, true);
    assert.equal(
      resolveStaticApp({ api: { app: `${dir}/app.html`, html_override: false } }).htmlOverride,
      false,
    );
    assert.throws(
      () => resolveStaticApp({ rest_cherrypy: { static: `${dir}/nope` } }, "/etc/salt/master"),
      (e: Error) =>
        e instanceof ConfigError &&
        /^rest_cherrypy\.static in \/etc\/salt\/master: the directory does not exist/.test(
          e.message,
        ),
    );
    assert.throws(
      () => resolveStaticApp({ api: { app: `${dir}/www` } }),
      /api\.app in options: expected a file/,
    );
    assert.throws(
      () => resolveStaticApp({ api: { static: `${dir}/app.html` } }),
      /api\.static .*expected a directory/,
    );
    assert.throws(() => resolveStaticApp({ api: { app_path: "app" } }), /api\.app_path/);
    assert.throws(() => resolveStaticApp({ api: { static_path: "/" } }), /api\.static_path/);
    assert.throws(() => resolveStaticApp({ api: { html_override: "yes" } }), /api\.html_override/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("wantsHtml and contentTypeOf", () => {
  assert.equal(wantsHtml("text/html,application/xhtml+xml,*/*;q=0.8"), true);
  assert.equal(wantsHtml("application/json"), false);
  assert.equal(wantsHtml("*/*"), false);
  assert.equal(wantsHtml(null), false);
  assert.equal(wantsHtml("text/html;q=0"), false);
  assert.equal(contentTypeOf("a/b.CSS"), "text/css; charset=utf-8");
  assert.equal(contentTypeOf("x"), "application/octet-stream");
});

Deno.test("StaticApp: files, traversal, symlinks out, app_path, html_override", async () => {
  const { dir } = await site();
  try {
    const app = new StaticApp(resolveStaticApp({
      api: { static: `${dir}/www`, app: `${dir}/app.html` },
    }));
    const get = async (path: string, init: RequestInit = {}) => {
      const res = await app.route(new Request(`http://h${path}`, init), path);
      return res === null
        ? null
        : { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
    };
    assert.deepEqual(await get("/static/index.js"), {
      status: 200,
      type: "text/javascript; charset=utf-8",
      text: "console.log(1);",
    });
    assert.equal((await get("/static/css%2Fa.css"))!.status, 404);
    assert.equal((await get("/static/css/a.css"))!.text, "body{}");
    for (
      const path of [
        "/static/..%2Fsecret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/link.txt",
        "/static/css",
        "/static",
        "/static/nope.js",
        "/static/%zz",
      ]
    ) {
      assert.equal((await get(path))!.status, 404, path);
    }
    assert.equal((await get("/static/index.js", { method: "POST" }))!.status, 405);
    assert.equal((await get("/static/index.js", { method: "HEAD" }))!.text, "");
    assert.equal((await get("/app"))!.text, "<p>app</p>");
    assert.equal((await get("/app/minions/web1"))!.text, "<p>app</p>");
    assert.equal(await get("/minions", { headers: { accept: "application/json" } }), null);
    assert.equal(await get("/minions"), null);
    assert.equal((await get("/minions", { headers: { accept: "text/html" } }))!.text, "<p>app</p>");
    assert.equal(await get("/", { method: "POST", headers: { accept: "text/html" } }), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
