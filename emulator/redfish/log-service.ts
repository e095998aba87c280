/**
 * The Manager's `LogServices`: one `EventLog` whose entries are the DPU's event log
 * (`simulation/event-log.ts`: power actions, installs and every other task, logins, failed
 * logins, lockouts, crashes), newest last, with `LogService.ClearLog`. Entries are
 * `EntryType` Event with the registry message they instance (TaskEvent, ResourceEvent, Base)
 * and, where there is one, the resource it happened to as `Links/OriginOfCondition`. The
 * collection inlines its entries (its `Members` are `OData.AutoExpand`), as real BMCs do.
 */
import type { LogEntryRecord } from "../simulation/event-log";
import { MAX_LOG_ENTRIES } from "../simulation/event-log";
import { notFound } from "../service-error";
import { collection, done, link, ok, redfishTime, requireParam, status, V1, type BmcContext, type BmcRoutes } from "./bmc-kit";
import type { RenderContext, Resource } from "./resources";

function logUri(c: RenderContext): string {
  return `${V1}/Managers/${c.ids.manager}/LogServices/EventLog`;
}

function logService(c: RenderContext): Resource {
  const uri = logUri(c);
  return {
    "@odata.id": uri,
    "@odata.type": "#LogService.v1_3_0.LogService",
    Id: "EventLog",
    Name: "Event Log Service",
    Description: "What happened on the DPU: power actions, installs, logins, failures",
    ServiceEnabled: true,
    MaxNumberOfRecords: MAX_LOG_ENTRIES,
    OverWritePolicy: "WrapsWhenFull",
    LogEntryType: "Event",
    DateTime: redfishTime(c.sim.clock.now()),
    DateTimeLocalOffset: "+00:00",
    Status: status(true),
    Entries: link(`${uri}/Entries`),
    Actions: { "#LogService.ClearLog": { target: `${uri}/Actions/LogService.ClearLog` } },
  };
}

function logEntry(c: RenderContext, e: LogEntryRecord): Resource {
  const body: Resource = {
    "@odata.id": `${logUri(c)}/Entries/${e.id}`,
    "@odata.type": "#LogEntry.v1_13_0.LogEntry",
    Id: String(e.id),
    Name: "Event Log Entry",
    EntryType: "Event",
    Created: redfishTime(e.created),
    Severity: e.severity,
    Message: e.message,
    MessageId: e.messageId,
    MessageArgs: e.args,
  };
  if (e.origin) body.Links = { OriginOfCondition: link(e.origin) };
  return body;
}

const scope = (c: BmcContext): void => requireParam(c, "manager", c.ids.manager, "Manager");

function scopeLog(c: BmcContext): void {
  scope(c);
  requireParam(c, "log", "EventLog", "LogService");
}

/** The routes of the Manager's log services. */
export function logServiceRoutes(): BmcRoutes {
  const base = `${V1}/Managers/{manager}/LogServices`;
  return [
    [base, { GET: (c) => (scope(c), ok(collection(`${V1}/Managers/${c.ids.manager}/LogServices`, "LogServiceCollection", "Log Services", [logUri(c)]))) }],
    [`${base}/{log}`, { GET: (c) => (scopeLog(c), ok(logService(c))) }],
    [`${base}/{log}/Entries`, {
      GET: (c) => {
        scopeLog(c);
        // LogEntryCollection's Members are OData.AutoExpand in the CSDL: the entries come inline.
        const entries = c.sim.eventLog.entries(c.serial).map((e) => logEntry(c, e));
        return ok({ ...collection(`${logUri(c)}/Entries`, "LogEntryCollection", "Event Log Entries", []), "Members@odata.count": entries.length, Members: entries });
      },
    }],
    [`${base}/{log}/Entries/{entry}`, {
      GET: (c) => {
        scopeLog(c);
        const id = /^[1-9][0-9]*$/.test(c.params.entry) ? Number(c.params.entry) : NaN;
        const e = c.sim.eventLog.entry(c.serial, id);
        if (!e) throw notFound("LogEntry", c.params.entry);
        return ok(logEntry(c, e));
      },
    }],
    [`${base}/{log}/Actions/LogService.ClearLog`, {
      POST: (c) => {
        scopeLog(c);
        c.sim.eventLog.clear(c.serial);
        return done();
      },
    }],
  ];
}
