import assert from "node:assert/strict";
import { JinjaRenderError, renderJinja } from "./jinja.ts";

const ctx = {
  tag: "salt/job/20261201000000000000/ret/web1",
  data: { id: "web1", data: { foo: "bar" }, list: ["a", "b"] },
};

Deno.test("renderJinja() reads data['id'], data.get('x', 'd') and data['data']['foo']", () => {
  assert.equal(
    renderJinja("{{ data['id'] }} {{ data.get('x', 'd') }} {{ data['data']['foo'] }}", ctx),
    "web1 d bar",
  );
});

Deno.test("renderJinja() runs tag.startswith() and 'x' in data", () => {
  assert.equal(
    renderJinja("{{ tag.startswith('salt/job/') }} {{ 'id' in data }} {{ 'x' in data }}", ctx),
    "true true false",
  );
});

Deno.test("renderJinja() runs if, for and set blocks", () => {
  const source =
    "{% set who = data['id'] %}{% if who == 'web1' %}{% for x in data['list'] %}{{ who }}-{{ x }};{% endfor %}{% endif %}";
  assert.equal(renderJinja(source, ctx), "web1-a;web1-b;");
});

Deno.test("renderJinja() has Salt's json and yaml filters", () => {
  assert.equal(renderJinja("{{ data['data'] | json }}", ctx), '{"foo": "bar"}');
  assert.equal(renderJinja("{{ data['list'] | yaml }}", ctx), "[ a, b ]");
});

Deno.test("renderJinja() throws JinjaRenderError on a syntax error", () => {
  assert.throws(() => renderJinja("{{ data[ }}", ctx), JinjaRenderError);
});
