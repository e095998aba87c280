/**
 * Messages from the dynamic-provider process to the Pulumi engine, attached to a resource.
 *
 * The engine starts the dynamic-provider host with its own gRPC address as the first
 * argument; its `Engine.Log` RPC takes a message with a severity, the URN of the resource
 * it concerns and an `ephemeral` flag (a status shown next to the resource while it runs,
 * not kept in the log). The client is built from the host's own copies of the generated
 * classes and of grpc-js (resolved from its main file), the ones its server runs on.
 */
import { createRequire } from "node:module";
import { isDynamicProviderHost } from "./engine-watch-preload";
import { captureRequestUrns } from "./request-urn";

/** One message for the engine. */
export interface EngineLogEntry {
  /** The resource it concerns. */
  urn: string;
  /** The text, without a trailing newline. */
  message: string;
  severity: "info" | "warning";
  /** A passing status (shown while the resource runs), not a log line. */
  ephemeral: boolean;
}

/** Sends one message; resolves when the engine accepted it, rejects when it did not. */
export type EngineLog = (entry: EngineLogEntry) => Promise<void>;


/** What attaching to the engine found. */
export interface EngineAttachment {
  /** The sender, when this process is the dynamic-provider host and every part was there. */
  log?: EngineLog;
  /** Why messages go to stderr instead, otherwise. */
  reason?: string;
  /** Whether this process is the dynamic-provider host. */
  inHost: boolean;
}

/**
 * In the dynamic-provider host: starts capturing request URNs and returns a sender to the
 * engine at the host's address. Elsewhere (tests, the CLI) returns the reason there is none.
 */
export function attachToEngine(mainFile = require.main?.filename, address = process.argv[2]): EngineAttachment {
  if (!mainFile || !isDynamicProviderHost(mainFile)) return { reason: "not running in Pulumi's dynamic-provider host", inHost: false };
  if (!address) return { reason: "the dynamic-provider host was started without the engine's address", inHost: true };
  try {
    const fromHost = createRequire(mainFile);
    const missing = captureRequestUrns(fromHost("../../proto/provider_pb") as Record<string, unknown>);
    if (missing.length > 0) return { reason: `this @pulumi/pulumi's ${missing.join(", ")} differ from what smartfleet knows`, inHost: true };
    return { log: engineLogAt(address, fromHost), inHost: true };
  } catch (error) {
    return { reason: `cannot reach the engine's Log service: ${(error as Error).message}`, inHost: true };
  }
}

/** A sender to the engine at `address`, built from the modules `load` resolves. */
export function engineLogAt(address: string, load: (id: string) => unknown): EngineLog {
  const grpc = load("@grpc/grpc-js") as { credentials: { createInsecure(): unknown } };
  const services = load("../../proto/engine_grpc_pb") as { EngineClient: new (address: string, credentials: unknown) => EngineClient };
  const messages = load("../../proto/engine_pb") as EngineMessages;
  const client = new services.EngineClient(address, grpc.credentials.createInsecure());
  return (entry) =>
    new Promise<void>((resolve, reject) => {
      const request = new messages.LogRequest();
      request.setSeverity(entry.severity === "warning" ? messages.LogSeverity.WARNING : messages.LogSeverity.INFO);
      request.setMessage(entry.message);
      request.setUrn(entry.urn);
      request.setEphemeral(entry.ephemeral);
      client.log(request, (error) => (error ? reject(error) : resolve()));
    });
}

interface EngineClient {
  log(request: unknown, callback: (error: Error | null) => void): void;
}

interface EngineMessages {
  LogRequest: new () => {
    setSeverity(value: number): void;
    setMessage(value: string): void;
    setUrn(value: string): void;
    setEphemeral(value: boolean): void;
  };
  LogSeverity: { INFO: number; WARNING: number };
}
