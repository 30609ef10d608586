/**
 * The live event viewer in a real browser: headless Chromium (Debian's
 * `chromium`) driven by playwright-core. Logs in through the page, sees
 * fired events appear newest first, filters on the server, and recovers
 * by itself after the API restarts.
 */
import assert from "node:assert/strict";
import type { Page } from "npm:playwright-core@1.65.1";
import { launchBrowser, PASSWORD, startTestApi, syncHub } from "./api_harness.ts";
import { startTestBus } from "./harness.ts";

/** The tags shown on the page, top to bottom. */
function shownTags(page: Page): Promise<string[]> {
  return page.$$eval("#events .ev .tag", (els) => els.map((e) => e.textContent ?? ""));
}

async function waitForTags(page: Page, tags: string[]): Promise<void> {
  // Page functions are given as text: this file is type-checked without the DOM library.
  await page.waitForFunction(
    `((wanted) => {
      const shown = [...document.querySelectorAll("#events .ev .tag")].map((e) => e.textContent);
      return wanted.every((tag) => shown.includes(tag));
    })(${JSON.stringify(tags)})`,
    undefined,
    { timeout: 15_000 },
  );
}

Deno.test({
  name:
    "the viewer logs in, shows events live newest first, filters, and recovers after an API restart",
  async fn() {
    await using t = await startTestBus();
    const tokenDir = await Deno.makeTempDir({ prefix: "saltbus-viewer-" });
    const options = { api_token_file: `${tokenDir}/tokens.json` };
    let api = await startTestApi(t, options);
    const port = api.port;
    const browser = await launchBrowser();
    try {
      // The page forbids eval (its CSP); the test evaluates its checks as text.
      const page = await browser.newPage({ bypassCSP: true });
      await page.goto(api.url);
      // Not logged in: the login form.
      await page.waitForSelector("#login:not([hidden])");
      await page.fill("#login [name=username]", "alice");
      await page.fill("#login [name=password]", PASSWORD);
      await page.click("#login button");
      await page.waitForSelector("#status.live");
      await syncHub(t, api);

      const ev = t.bus.getEvent({ listen: false });
      await ev.fireEvent({ n: 1, text: "<b>not html</b>" }, "salt/job/1/new");
      await ev.fireEvent({ n: 2 }, "salt/auth");
      await ev.fireEvent({ n: 3 }, "salt/job/1/ret/web1");
      await waitForTags(page, ["salt/job/1/new", "salt/auth", "salt/job/1/ret/web1"]);
      const tags = await shownTags(page);
      assert.deepEqual(tags.slice(0, 3), ["salt/job/1/ret/web1", "salt/auth", "salt/job/1/new"]);
      // Pretty JSON, inserted as text.
      const pre = await page.textContent("#events .ev:nth-child(3) pre");
      assert.match(pre!, /^\{\n {2}"n": 1,\n {2}"text": "<b>not html<\/b>",\n {2}"_stamp": "/);
      assert.equal(await page.$$eval("#events b", (els) => els.length), 0);
      // Counts per tag prefix.
      const chips = await page.$$eval("#prefixes .chip", (els) => els.map((e) => e.textContent));
      assert.ok(chips.includes("salt/job2"), `chips: ${chips}`);

      // Pause holds new events back; resume shows them.
      await page.click("#pause");
      await ev.fireEvent({ n: 35 }, "salt/held");
      await page.waitForFunction(`document.getElementById("pause").textContent === "Resume (1)"`);
      assert.equal((await shownTags(page))[0], "salt/job/1/ret/web1");
      await page.click("#pause");
      await waitForTags(page, ["salt/held"]);
      assert.equal((await shownTags(page))[0], "salt/held");

      // A server-side filter: the page is rebuilt from the history, then live.
      await page.fill("#tag", "salt/job/*/ret/*");
      await page.selectOption("#matchType", "fnmatch");
      await page.click("#filter button");
      await page.waitForFunction(`document.querySelectorAll("#events .ev").length === 1`);
      await ev.fireEvent({ n: 4 }, "salt/auth");
      await ev.fireEvent({ n: 5 }, "salt/job/2/ret/web2");
      await waitForTags(page, ["salt/job/2/ret/web2"]);
      assert.deepEqual(await shownTags(page), ["salt/job/2/ret/web2", "salt/job/1/ret/web1"]);

      // The API restarts on the same port: the page reconnects on its own and
      // carries on (the token survives in the token file).
      await api.close();
      api = await startTestApi(t, { ...options, api: { port } });
      await syncHub(t, api);
      await ev.fireEvent({ n: 6 }, "salt/job/3/ret/web3");
      await waitForTags(page, ["salt/job/3/ret/web3"]);
      await page.waitForSelector("#status.live");
      assert.equal((await shownTags(page))[0], "salt/job/3/ret/web3");
      await ev.close();
    } finally {
      await browser.close();
      await api.close();
      await Deno.remove(tokenDir, { recursive: true });
    }
  },
});
