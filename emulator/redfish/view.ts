/**
 * What the standard-view renderers (`operating-system.ts`, `device-functions.ts`) and their
 * routes (`standard-routes.ts`) need of a port: the same fields as `RenderContext` and
 * `RouteContext`, named here so those files need not import the files that hook them in.
 */
import type { Simulation } from "../simulation";
import type { Params } from "./router";
import type { VendorIds } from "./vendor";

/** A JSON resource body. */
export type Body = Record<string, unknown>;

/** The DPU a port renders. */
export interface ViewContext {
  /** The simulation. */
  sim: Simulation;
  /** DPU serial. */
  serial: string;
  /** Vendor ids. */
  ids: VendorIds;
}

/** A read of the standard view: the port and the path's parameters. */
export interface ViewRequest extends ViewContext {
  /** Path parameters. */
  params: Params;
}

/** A GET handler of the standard view. */
export type ViewHandler = (c: ViewRequest) => { status: number; body: Body };
