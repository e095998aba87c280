import { describe, expect, it } from "vitest";
import { RedfishError, withFirstAcceptedPassword } from "../../providers/redfish";
import { authedGet, basicPort, PASSWORD, scriptedPortFixture, startScriptedServer } from "../support/redfish-ports";

describe("reading a port with the management password, else the factory one", () => {
  const port = scriptedPortFixture();
  const SYSTEMS = "/redfish/v1/Systems";
  const read = (passwords: string[], counted?: (n: number) => void) =>
    withFirstAcceptedPassword({ url: port.server.url, caPem: port.pki.caPem, username: "root" }, passwords, { retries: 0 }, async (client, password) => ({ body: (await client.get(SYSTEMS)).body, password }), counted);

  it("goes on to the next password on a 401 and counts the requests of both clients", async () => {
    port.server = await startScriptedServer(port.pki, [...basicPort(), authedGet(SYSTEMS, { Members: [] })]);
    let requests = 0;
    const answer = await read(["managed-not-set-yet", PASSWORD], (n) => (requests += n));
    expect(answer).toEqual({ body: { Members: [] }, password: PASSWORD });
    // Refused login (root read once per port), then the accepted login and the GET.
    expect(requests).toBe(port.server.seen.filter((r) => r.method !== "DELETE").length);
  });

  it("throws the last password's 401, and anything but a 401 at once", async () => {
    port.server = await startScriptedServer(port.pki, [...basicPort(), (req) => (req.url === SYSTEMS ? { status: 500, body: {} } : undefined)]);
    await expect(read(["a", "b"])).rejects.toMatchObject({ status: 401 });
    const logins = () => port.server.seen.filter((r) => r.method === "POST").length;
    expect(logins()).toBe(2);
    const failure = await read([PASSWORD, "never-tried"]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(RedfishError);
    expect((failure as RedfishError).status).toBe(500);
    expect(logins()).toBe(3);
    await expect(read([])).rejects.toThrow(/no password to log in to .* as 'root'/);
  });
});
