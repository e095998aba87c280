import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { readEndpointsFile } from "../../model/endpoints";
import { InputError } from "../../schemas/diagnostics";

describe("readEndpointsFile", () => {
  it("says how to start an emulator that writes a missing endpoints file, naming its --state folder", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-endpoints-"));
    const file = path.join(dir, "lab", "endpoints.json");
    try {
      expect(() => readEndpointsFile(file)).toThrow(InputError);
      let message = "";
      try {
        readEndpointsFile(file);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toContain(`${file}:1:1`);
      expect(message).toContain("endpoints file not found");
      expect(message).toContain(`--state ${path.relative(process.cwd(), path.join(dir, "lab"))} --detach`);
      expect(message).toContain("smartfleet:endpoints");
      expect(message).not.toContain("ENOENT");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
