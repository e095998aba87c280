import { describe, expect, it } from "vitest";
import { parseRedfishError } from "../../providers/redfish/errors";

/** A Base registry extended info entry as services send it. */
const info = (id: string, message: string) => ({ MessageId: `Base.1.22.1.${id}`, Message: message, Resolution: "Retry." });

describe("reading Redfish error bodies", () => {
  it("keeps the service's specific reason from error.message beside the generic registry text", () => {
    const parsed = parseRedfishError({
      error: {
        code: "Base.1.22.1.OperationNotAllowed",
        message: "the primary DPU MT1 is not running",
        "@Message.ExtendedInfo": [info("OperationNotAllowed", "The HTTP method is not allowed on this resource.")],
      },
    });
    expect(parsed.messageId).toBe("Base.1.22.1.OperationNotAllowed");
    expect(parsed.message).toBe("the primary DPU MT1 is not running (The HTTP method is not allowed on this resource)");
    expect(parsed.resolution).toBe("Retry.");
  });

  it("uses the extended info alone when error.message only points at it", () => {
    const parsed = parseRedfishError({
      error: {
        code: "Base.1.22.1.GeneralError",
        message: "A general error has occurred. See ExtendedInfo for more information.",
        "@Message.ExtendedInfo": [info("PropertyValueNotInList", "The value 'x' for the property Mode is not in the list of acceptable values.")],
      },
    });
    expect(parsed.messageId).toBe("Base.1.22.1.PropertyValueNotInList");
    expect(parsed.message).toBe("The value 'x' for the property Mode is not in the list of acceptable values.");
  });

  it("does not repeat error.message when it is the registry text", () => {
    const text = "The request failed due to an internal service error.";
    const parsed = parseRedfishError({ error: { code: "Base.1.22.1.InternalError", message: text, "@Message.ExtendedInfo": [info("InternalError", text)] } });
    expect(parsed.message).toBe(text);
  });

  it("falls back to error.code and error.message without extended info", () => {
    const parsed = parseRedfishError({ error: { code: "Base.1.22.1.ResourceNotFound", message: "Services 'x' does not exist" } });
    expect(parsed).toMatchObject({ messageId: "Base.1.22.1.ResourceNotFound", message: "Services 'x' does not exist", extendedInfo: [] });
  });
});
