/**
 * The endpoints file an emulator writes to `DIR/endpoints.json`: where every DPU's
 * management port listens. The provider reads the same format for real BMCs.
 */

/** One DPU's management port. */
export interface DpuEndpoint {
  /** Host name in the inventory. */
  host: string;
  /** NIC name within the host. */
  nic: string;
  /** DPU serial number. */
  serial: string;
  /** DPU vendor (nvidia | amd | intel). */
  vendor: string;
  /** DPU model, e.g. bluefield-3. */
  model: string;
  /** Base URL of the management port, `https://ADDR:PORT`. */
  url: string;
  /** User name of the factory management account. */
  factoryUsername: string;
}

/** The whole endpoints file. */
export interface EndpointsFile {
  /** Fleet name from the inventory. */
  fleet: string;
  /** Absolute path of the CA certificate (PEM) that signed every port's certificate. */
  caFile: string;
  /** Base URL of the admin API. */
  adminUrl: string;
  /** Every DPU's management port. */
  dpus: DpuEndpoint[];
}
