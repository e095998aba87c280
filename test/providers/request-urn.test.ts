import * as fs from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { afterAll, describe, expect, it } from "vitest";
import { attachToEngine, engineLogAt } from "../../providers/common/engine-log";
import { REQUEST_GETTERS, captureRequestUrns, urnOf } from "../../providers/common/request-urn";

// The host's generated modules are CommonJS without types.
const providerPb = require("@pulumi/pulumi/proto/provider_pb") as Record<string, new () => Record<string, (...args: unknown[]) => unknown>>;
const providerGrpc = require("@pulumi/pulumi/proto/provider_grpc_pb") as { ResourceProviderService: Record<string, { requestDeserialize(buffer: Buffer): Record<string, (...args: unknown[]) => unknown> }> };
const engineGrpc = require("@pulumi/pulumi/proto/engine_grpc_pb") as { EngineService: grpc.ServiceDefinition };
const structPb = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(value: object): unknown } };

const HOST_MAIN = require.resolve("@pulumi/pulumi/cmd/dynamic-provider/index.js");

/** The service method of each request class (`CreateRequest` → `create`). */
const methodOf = (requestClass: string): string => requestClass.replace(/Request$/, "").replace(/^./, (c) => c.toLowerCase());
/** The setter of a getter (`getNews` → `setNews`). */
const setterOf = (getter: string): string => getter.replace(/^get/, "set");

describe("the URN of a dynamic-provider request", () => {
  captureRequestUrns(require("@pulumi/pulumi/proto/provider_pb") as Record<string, unknown>);

  it.each(Object.entries(REQUEST_GETTERS))("%s: the objects the host hands the provider carry the request's URN", (requestClass, getters) => {
    const urn = `urn:pulumi:lab::smartfleet::smartfleet:index:DpuOs::${requestClass}`;
    const request = new providerPb[requestClass]();
    request.setUrn(urn);
    for (const getter of getters) request[setterOf(getter)](structPb.Struct.fromJavaScript({ image: "dpu-os", from: getter }));
    // Through the host's own gRPC service definition, as its server deserializes a call.
    const bytes = Buffer.from(request.serializeBinary() as Uint8Array);
    const received = providerGrpc.ResourceProviderService[methodOf(requestClass)].requestDeserialize(bytes);
    for (const getter of getters) {
      const props = (received[getter]() as { toJavaScript(): Record<string, unknown> }).toJavaScript();
      expect(props).toEqual({ image: "dpu-os", from: getter });
      expect(urnOf(props)).toBe(urn);
      // Read again (the host reads getNews twice in check): still marked, wrapped once.
      expect(urnOf((received[getter]() as { toJavaScript(): object }).toJavaScript())).toBe(urn);
    }
  });

  it("marks nothing for a request without a URN, and nothing that is not a request's properties", () => {
    const request = new providerPb.CreateRequest();
    request.setProperties(structPb.Struct.fromJavaScript({ a: 1 }));
    const received = providerGrpc.ResourceProviderService.create.requestDeserialize(Buffer.from(request.serializeBinary() as Uint8Array));
    expect(urnOf((received.getProperties() as { toJavaScript(): object }).toJavaScript())).toBeUndefined();
    expect(urnOf({ a: 1 })).toBeUndefined();
    expect(urnOf(undefined)).toBeUndefined();
  });

  it("the host still reads each call's properties through the getters captured (so the provider gets the marked objects)", () => {
    const host = fs.readFileSync(HOST_MAIN, "utf8");
    for (const getters of Object.values(REQUEST_GETTERS)) {
      for (const getter of getters) expect(host).toMatch(new RegExp(`req\\.${getter}\\(\\)\\??\\.toJavaScript\\(\\)`));
    }
    // …and hands those objects to the provider as they are.
    expect(host).toMatch(/provider\.create\(props\)/);
    expect(host).toMatch(/provider\.read\(id, props\)/);
    expect(host).toMatch(/provider\.update\(req\.getId\(\), olds, news\)/);
    expect(host).toMatch(/provider\.delete\(req\.getId\(\), props\)/);
  });

  it("reports the request classes a host does not have instead of failing", () => {
    expect(captureRequestUrns({ CreateRequest: { deserializeBinary: () => ({}), prototype: {} } })).toEqual(Object.keys(REQUEST_GETTERS));
  });
});

describe("the engine's Log service", () => {
  const received: Array<{ urn: string; message: string; severity: number; ephemeral: boolean }> = [];
  const server = new grpc.Server();
  let address = "";
  const started = new Promise<void>((resolve, reject) => {
    server.addService(engineGrpc.EngineService, {
      log(call: grpc.ServerUnaryCall<{ getUrn(): string; getMessage(): string; getSeverity(): number; getEphemeral(): boolean }, unknown>, callback: grpc.sendUnaryData<unknown>) {
        const r = call.request;
        received.push({ urn: r.getUrn(), message: r.getMessage(), severity: r.getSeverity(), ephemeral: r.getEphemeral() });
        const Empty = require("google-protobuf/google/protobuf/empty_pb").Empty as new () => unknown;
        callback(null, new Empty());
      },
    });
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
      if (error) return reject(error);
      address = `127.0.0.1:${port}`;
      resolve();
    });
  });
  afterAll(() => server.forceShutdown());

  it("sends severity, message, URN and the ephemeral flag", async () => {
    await started;
    const log = engineLogAt(address, (id) => require(id.startsWith("../../") ? `@pulumi/pulumi/${id.slice(6)}` : id));
    await log({ urn: "urn:a", message: "installing: 40 %", severity: "info", ephemeral: true });
    await log({ urn: "urn:b", message: "retry 1/8", severity: "warning", ephemeral: false });
    expect(received).toEqual([
      { urn: "urn:a", message: "installing: 40 %", severity: 1, ephemeral: true },
      { urn: "urn:b", message: "retry 1/8", severity: 2, ephemeral: false },
    ]);
  });

  it("attaches only inside the dynamic-provider host, with the engine's address", async () => {
    await started;
    const elsewhere = attachToEngine("/usr/lib/node_modules/vitest/vitest.mjs", address);
    expect(elsewhere.inHost).toBe(false);
    expect(elsewhere.log).toBeUndefined();
    const noAddress = attachToEngine(HOST_MAIN, undefined);
    expect(noAddress.log).toBeUndefined();
    expect(noAddress.reason).toMatch(/without the engine's address/);
    const attached = attachToEngine(HOST_MAIN, address);
    expect(attached.reason).toBeUndefined();
    await attached.log!({ urn: "urn:c", message: "from the host's modules", severity: "info", ephemeral: false });
    expect(received.at(-1)).toEqual({ urn: "urn:c", message: "from the host's modules", severity: 1, ephemeral: false });
  });
});
