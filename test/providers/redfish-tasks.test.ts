/** Waiting for Redfish tasks (`tasks.ts`): monitors, task URIs kept across runs, progress, failures, time limits. */
import { describe, expect, it } from "vitest";
import { InstantClock, OperationTimeoutError, RedfishError, TaskFailedError, taskReference } from "../../providers/redfish";
import { authedGet, basicPort, SESSIONS, scriptedPortFixture, startScriptedServer } from "../support/redfish-ports";

const port = scriptedPortFixture();

const open = port.open;

describe("tasks", () => {
  const monitor = "/redfish/v1/TaskService/TaskMonitors/7";
  const taskUri = "/redfish/v1/TaskService/Tasks/7";
  const task = (state: string, pct: number, messages: unknown[] = []) => ({ "@odata.id": taskUri, Id: "7", TaskState: state, PercentComplete: pct, Messages: messages });

  it("follows a task monitor to Completed and reports progress while it runs (the poll that finds it done reports none)", async () => {
    const states = [task("Running", 10), task("Running", 60)];
    port.server = await startScriptedServer(port.pki, [
      ...basicPort(),
      (req) => (req.url === monitor ? (states.length ? { status: 202, body: states.shift(), headers: { Location: monitor } } : { status: 200, body: task("Completed", 100) }) : undefined),
    ]);
    const clock = new InstantClock();
    const client = open({ clock });
    const progress: number[] = [];
    const done = await client.waitForTask(monitor, { onProgress: (p) => progress.push(p) });
    expect(done).toMatchObject({ state: "Completed", uri: taskUri, monitor, percentComplete: 100 });
    expect(progress).toEqual([10, 60]);
    expect(clock.sleeps).toHaveLength(2);
    expect(clock.sleeps[1]).toBeGreaterThan(clock.sleeps[0]);
    await client.close();
  });

  it("names the task a 202 started, so it can be kept and waited on later", async () => {
    port.server = await startScriptedServer(port.pki, [
      ...basicPort(),
      (req) => (req.method === "POST" && req.url === "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate" ? { status: 202, headers: { Location: monitor }, body: task("New", 0) } : undefined),
      (req) => (req.url === taskUri ? { status: 200, body: task("Completed", 100) } : undefined),
    ]);
    const client = open();
    const started = await client.post("/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: "http://images.lab/os.bfb" });
    const ref = taskReference(started);
    expect(ref).toEqual({ monitor, task: taskUri, uri: taskUri });
    expect(taskReference({ status: 201, body: {} })).toBeUndefined();
    expect(await client.waitForTask(ref?.uri ?? "")).toMatchObject({ state: "Completed" });
    await client.close();
  });

  it("returns what a create task made: the monitor's final 201 with its Location", async () => {
    const service = "/redfish/v1/Oem/SmartFleet/Services/dfw";
    let polls = 0;
    port.server = await startScriptedServer(port.pki, [
      ...basicPort(),
      (req) => (req.url === monitor ? (polls++ === 0 ? { status: 202, body: task("Running", 50) } : { status: 201, headers: { Location: service }, body: { "@odata.id": service, Id: "dfw" } }) : undefined),
      (req) => (req.url === taskUri ? { status: 200, body: task("Completed", 100) } : undefined),
    ]);
    const client = open();
    const done = await client.waitForTask(monitor);
    expect(done).toMatchObject({ state: "Completed", uri: taskUri, monitor, resultLocation: service, result: { Id: "dfw" } });
    await client.close();
  });

  it("resumes waiting from a task URI kept by an earlier run", async () => {
    const states = ["Running", "Completed"];
    port.server = await startScriptedServer(port.pki, [...basicPort(), (req) => (req.url === taskUri ? { status: 200, body: task(states.shift() ?? "Completed", 100) } : undefined)]);
    const client = open();
    expect(await client.waitForTask(taskUri)).toMatchObject({ state: "Completed", uri: taskUri });
    await client.close();
  });

  it("reads the task resource when the monitor has already gone", async () => {
    port.server = await startScriptedServer(port.pki, [
      ...basicPort(),
      (req) => (req.url === monitor && port.server.seen.filter((r) => r.url === monitor).length === 1 ? { status: 202, body: task("Running", 5) } : undefined),
      (req) => (req.url === taskUri ? { status: 200, body: task("Completed", 100) } : undefined),
    ]);
    const client = open();
    expect(await client.waitForTask(monitor)).toMatchObject({ state: "Completed", uri: taskUri });
    await client.close();
  });

  it("finds the task through the TaskService when a kept monitor has expired", async () => {
    port.server = await startScriptedServer(port.pki, [
      (req) => (req.url === "/redfish/v1" ? { status: 200, body: { Links: { Sessions: { "@odata.id": SESSIONS } }, Tasks: { "@odata.id": "/redfish/v1/TaskService" } } } : undefined),
      ...basicPort().slice(1),
      authedGet("/redfish/v1/TaskService", { Tasks: { "@odata.id": "/redfish/v1/TaskService/Tasks" } }),
      authedGet("/redfish/v1/TaskService/Tasks", { Members: [{ "@odata.id": "/redfish/v1/TaskService/Tasks/6" }, { "@odata.id": taskUri }] }),
      authedGet("/redfish/v1/TaskService/Tasks/6", { ...task("Completed", 100), "@odata.id": "/redfish/v1/TaskService/Tasks/6", TaskMonitor: "/redfish/v1/TaskService/TaskMonitors/6" }),
      authedGet(taskUri, { ...task("Completed", 100), TaskMonitor: monitor }),
    ]);
    const client = open();
    expect(await client.waitForTask(monitor)).toMatchObject({ state: "Completed", uri: taskUri, monitor });
    await client.close();
  });

  it("fails if the task ends Exception, with the task's MessageId", async () => {
    const failure = { MessageId: "Update.1.1.TransferFailed", Message: "Transfer of image 'http://images.lab/x.bfb' failed: checksum mismatch.", Resolution: "Check the image checksum.", MessageSeverity: "Critical" };
    port.server = await startScriptedServer(port.pki, [
      ...basicPort(),
      (req) => (req.url === monitor ? { status: 200, body: task("Exception", 40, [{ MessageId: "TaskEvent.1.0.TaskStarted", Message: "started", MessageSeverity: "OK" }, failure]) } : undefined),
    ]);
    const client = open();
    const err = (await client.waitForTask(monitor).catch((e: unknown) => e)) as TaskFailedError;
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err).toBeInstanceOf(RedfishError);
    expect(err.messageId).toBe("Update.1.1.TransferFailed");
    expect(err.message).toContain("checksum mismatch");
    expect(err.message).toContain(port.server.url);
    expect(err.task.state).toBe("Exception");
    expect(err.uri).toBe(taskUri);
    await client.close();
  });

  it("fails if a task outlives the operation timeout", async () => {
    port.server = await startScriptedServer(port.pki, [...basicPort(), (req) => (req.url === monitor ? { status: 202, body: task("Running", 1) } : undefined)]);
    const client = open({ operationTimeoutMs: 60_000 });
    const err = await client.waitForTask(monitor).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationTimeoutError);
    expect((err as Error).message).toContain(port.server.url);
    await client.close();
  });
});
