/** `smartfleet render` on files that are not stacks: named as what they are, exit 2, nothing on stdout. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../../cli/commands/render";
import { capture } from "./capture";

const repo = path.resolve(__dirname, "..", "..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sf-render-inputs-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("smartfleet render on files that are not stacks", () => {
  it.each([
    ["Pulumi stack settings", path.join(repo, "stacks", "Pulumi.lab.yaml"), "Pulumi stack settings, not a smartfleet stack: render the file its smartfleet:stackFile names"],
    ["a Fleet inventory", path.join(repo, "examples", "stacks", "fleet.yaml"), "this is a Fleet inventory, not a Stack"],
  ])("%s", async (_what, file, message) => {
    const out = await capture(run, [file]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain(message);
  });

  it("an empty file and binary content", async () => {
    const empty = path.join(tmp, "empty.yaml");
    fs.writeFileSync(empty, "");
    expect((await capture(run, [empty])).stderr).toContain("empty file, expected a Stack document");
    const binary = path.join(tmp, "binary.yaml");
    fs.writeFileSync(binary, Buffer.from([0x6b, 0x3a, 0x20, 0x00, 0x9b]));
    const out = await capture(run, [binary]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("not a text file: byte 0x00 at offset 3");
    expect(out.stderr).not.toMatch(/[\x00\x9b]/);
  });
});
