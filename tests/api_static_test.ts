/**
 * rest_cherrypy's `static`, `static_path`, `app`, `app_path` and
 * `html_override`, configured in a Salt `rest_cherrypy:` block, against an
 * in-process master with two real minion processes: curl and raw sockets
 * for files, traversal attempts and content negotiation, and headless
 * Chromium running a single-page app that logs in and pings the minions.
 */
import assert from "node:assert/strict";
import { launchBrowser, PASSWORD } from "./api_harness.ts";
import { startResourceSite } from "./resources_site.ts";

const APP_HTML = `<!doctype html>
<html><head><title>ping app</title></head>
<body>
<form id="login"><input name="username"><input name="password" type="password"><button>Log in</button></form>
<pre id="result"></pre>
<script src="/static/js/app.js"></script>
</body></html>
`;

// The app: log in with JSON, run test.ping through POST / with X-Auth-Token, show the result.
const APP_JS = `document.getElementById("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const out = document.getElementById("result");
  const login = await fetch("/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username: form.get("username"), password: form.get("password"), eauth: "saltbus" }),
  });
  const token = (await login.json()).return[0].token;
  const res = await fetch("/", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-Auth-Token": token },
    body: JSON.stringify([{ client: "local", tgt: "*", fun: "test.ping" }]),
  });
  const ret = (await res.json()).return[0];
  const sorted = Object.fromEntries(Object.keys(ret).sort().map((k) => [k, ret[k]]));
  out.textContent = res.status + " " + JSON.stringify(sorted);
  out.className = "done";
});
`;

async function run(cmd: string[]) {
  const out = await new Deno.Command("timeout", {
    args: ["120", ...cmd],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout);
}

/** curl -s: status, content type and body. */
async function curl(args: string[]) {
  const out = await run(["curl", "-sS", "-w", "\n%{http_code} %{content_type}", ...args]);
  const i = out.lastIndexOf("\n");
  const [status, ...type] = out.slice(i + 1).split(" ");
  return { status: Number(status), type: type.join(" "), body: out.slice(0, i) };
}

/** Sends `target` as the request line as is (no client-side normalising); the status. */
async function rawStatus(port: number, target: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      ),
    );
    let text = "";
    const buf = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
    assert.doesNotMatch(text, /TOP SECRET/, target);
    return Number(text.split(" ")[1]);
  } finally {
    conn.close();
  }
}

Deno.test("static and app from a rest_cherrypy block: files, traversal, html_override, a browser app", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "saltbus-static-site-" });
  try {
    await Deno.mkdir(`${dir}/www/js`, { recursive: true });
    await Deno.writeTextFile(`${dir}/www/js/app.js`, APP_JS);
    await Deno.writeTextFile(`${dir}/www/style.css`, "body { color: red }");
    await Deno.writeFile(`${dir}/www/logo.png`, new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
    await Deno.writeTextFile(`${dir}/app.html`, APP_HTML);
    await Deno.writeTextFile(`${dir}/secret.txt`, "TOP SECRET");
    await Deno.symlink(`${dir}/secret.txt`, `${dir}/www/leak.txt`);
    await Deno.symlink(dir, `${dir}/www/up`);
    await using site = await startResourceSite({
      rest_cherrypy: { port: 8000, static: `${dir}/www`, app: `${dir}/app.html` },
    });
    const { api } = site;
    const base = api.url.slice(0, -1);

    await t.step("static files with their content types; HEAD; no listing; missing", async () => {
      assert.deepEqual(await curl([`${base}/static/style.css`]), {
        status: 200,
        type: "text/css; charset=utf-8",
        body: "body { color: red }",
      });
      const js = await curl([`${base}/static/js/app.js`]);
      assert.equal(js.status, 200);
      assert.equal(js.type, "text/javascript; charset=utf-8");
      assert.equal(js.body, APP_JS);
      const png = await fetch(`${base}/static/logo.png`);
      assert.equal(png.headers.get("content-type"), "image/png");
      assert.deepEqual(
        new Uint8Array(await png.arrayBuffer()),
        new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
      );
      const head = await curl(["-I", `${base}/static/style.css`]);
      assert.equal(head.status, 200);
      assert.match(head.body, /content-type: text\/css/i);
      for (const path of ["/static/js", "/static/js/", "/static", "/static/nope.css"]) {
        const res = await curl([`${base}${path}`]);
        assert.equal(res.status, 404, path);
        assert.equal(JSON.parse(res.body).status, 404);
      }
      const post = await fetch(`${base}/static/style.css`, { method: "POST", body: "x" });
      assert.equal(post.status, 405);
      await post.body?.cancel();
    });

    await t.step("traversal: .., %2e%2e, %2f, symlinks out of the directory → 404", async () => {
      for (
        const target of [
          "/static/../secret.txt",
          "/static/%2e%2e/secret.txt",
          "/static/%2E%2E/secret.txt",
          "/static/..%2fsecret.txt",
          "/static/js/..%2F..%2Fsecret.txt",
          "/static/leak.txt",
          "/static/up/secret.txt",
          "/static/%00",
        ]
      ) {
        assert.equal(await rawStatus(api.port, target), 404, target);
        const res = await curl(["--path-as-is", `${base}${target}`]);
        assert.equal(res.status, 404, target);
        assert.doesNotMatch(res.body, /TOP SECRET/);
      }
    });

    await t.step(
      "app at app_path; html_override only for clients asking for text/html",
      async () => {
        for (const path of ["/app", "/app/", "/app/minions/web1"]) {
          const res = await curl([`${base}${path}`]);
          assert.deepEqual(
            res,
            { status: 200, type: "text/html; charset=utf-8", body: APP_HTML },
            path,
          );
        }
        const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        for (const path of ["/", "/minions", "/jobs/123", "/login", "/nowhere"]) {
          const html = await curl(["-H", `Accept: ${browserAccept}`, `${base}${path}`]);
          assert.equal(html.status, 200, path);
          assert.equal(html.body, APP_HTML, path);
        }
        // API clients: curl's */*, JSON, or no Accept at all keep getting JSON.
        const welcome = await curl([`${base}/`]);
        assert.equal(welcome.status, 200);
        assert.equal(JSON.parse(welcome.body).return, "Welcome");
        const json = await curl(["-H", "Accept: application/json", `${base}/minions`]);
        assert.equal(json.status, 401);
        assert.equal(json.type, "application/json");
        const none = await curl(["-H", "Accept:", `${base}/login`]);
        assert.equal(none.status, 401);
        assert.deepEqual(JSON.parse(none.body), { status: 401, return: "Please log in" });
      },
    );

    await t.step("headless Chromium: the app logs in and pings both minions", async () => {
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        // A deep link: html_override hands the browser the app.
        await page.goto(`${base}/minions/web1`);
        assert.equal(await page.title(), "ping app");
        await page.fill("#login [name=username]", "alice");
        await page.fill("#login [name=password]", PASSWORD);
        await page.click("#login button");
        await page.waitForSelector("#result.done", { timeout: 30_000 });
        assert.equal(await page.textContent("#result"), '200 {"web1":true,"web2":true}');
      } finally {
        await browser.close();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing rest_cherrypy static directory is a config error naming the option", async () => {
  await assert.rejects(
    () => startResourceSite({ rest_cherrypy: { static: "/nonexistent/saltbus-www" } }),
    /rest_cherrypy\.static in options: the directory does not exist, got "\/nonexistent\/saltbus-www"/,
  );
});
