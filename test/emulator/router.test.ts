import { describe, expect, it } from "vitest";
import { Router } from "../../emulator/redfish/router";

describe("emulator router", () => {
  const router = () => new Router<string>().on("/redfish/v1/Systems", { GET: "systems" }).on("/redfish/v1/Systems/{system}", { GET: "system", PATCH: "patch" });

  it("answers the handler, the decoded parameters and the allowed methods, the same when asked again", () => {
    const r = router();
    for (let i = 0; i < 2; i++) {
      expect(r.match("GET", "/redfish/v1/Systems/Host%201")).toEqual({ kind: "found", handler: "system", params: { system: "Host 1" }, allow: ["GET", "PATCH", "HEAD"] });
      expect(r.match("HEAD", "/redfish/v1/Systems")).toMatchObject({ kind: "found", handler: "systems" });
      expect(r.match("DELETE", "/redfish/v1/Systems/Host")).toEqual({ kind: "method-not-allowed", allow: ["GET", "PATCH", "HEAD"] });
      expect(r.match("GET", "/redfish/v1/Chassis")).toEqual({ kind: "not-found" });
    }
  });

  it("hands out copies: a caller changing what it got does not change the next answer", () => {
    const r = router();
    const first = r.match("GET", "/redfish/v1/Systems/Host");
    if (first.kind !== "found") throw new Error("not found");
    first.params.system = "changed";
    first.allow.push("PUT");
    expect(r.match("GET", "/redfish/v1/Systems/Host")).toEqual({ kind: "found", handler: "system", params: { system: "Host" }, allow: ["GET", "PATCH", "HEAD"] });
  });

  it("sees a route added after a lookup", () => {
    const r = router();
    expect(r.match("GET", "/redfish/v1/Chassis").kind).toBe("not-found");
    r.on("/redfish/v1/Chassis", { GET: "chassis" });
    expect(r.match("GET", "/redfish/v1/Chassis")).toMatchObject({ kind: "found", handler: "chassis" });
  });
});
