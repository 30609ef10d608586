import assert from "node:assert/strict";
import { readYamlFile, YamlFileError } from "./yaml_file.ts";

Deno.test("readYamlFile() reads YAML 1.1 and names the file in both of its errors", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/ok.yaml`, "a: yes\nb: [1, 2]\n");
    assert.deepEqual(await readYamlFile(`${dir}/ok.yaml`, "config file"), { a: true, b: [1, 2] });
    await Deno.writeTextFile(`${dir}/empty.yaml`, "");
    assert.equal(await readYamlFile(`${dir}/empty.yaml`, "config file"), null);
    await Deno.writeTextFile(`${dir}/bad.yaml`, "a: [unclosed\n");
    await assert.rejects(
      readYamlFile(`${dir}/bad.yaml`, "roster file"),
      (err: Error) =>
        err instanceof YamlFileError && err.file === `${dir}/bad.yaml` &&
        /^roster file .*bad\.yaml is not valid YAML/.test(err.message),
    );
    await assert.rejects(
      readYamlFile(`${dir}/missing.yaml`, "config file"),
      (err: Error) =>
        err instanceof YamlFileError &&
        /^cannot read config file .*missing\.yaml/.test(err.message),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
