/** Redfish identity of a DPU's management port per vendor (see PROTOCOL.md "Identity per vendor"). */

/** The resource ids a vendor's BMC uses. */
export interface VendorIds {
  /** The DPU's Arm system id under /Systems. */
  system: string;
  /** The BMC manager id under /Managers. */
  manager: string;
  /** The card chassis id under /Chassis. */
  chassis: string;
  /** Network adapter id under the chassis. */
  adapter: string;
  /** Firmware inventory ids. */
  firmware: { os: string; nic: string; bmc: string };
  /** Manufacturer string. */
  manufacturer: string;
}

const IDS: Record<string, VendorIds> = {
  nvidia: {
    system: "Bluefield",
    manager: "Bluefield_BMC",
    chassis: "Card1",
    adapter: "NvidiaNetworkAdapter",
    firmware: { os: "DPU_OS", nic: "DPU_NIC", bmc: "BMC_Firmware" },
    manufacturer: "Nvidia",
  },
  amd: {
    system: "Card1-SoC",
    manager: "BMC",
    chassis: "Card1",
    adapter: "DSC",
    firmware: { os: "DPU_Image", nic: "DSC_Firmware", bmc: "BMC" },
    manufacturer: "AMD Pensando",
  },
  intel: {
    system: "IPU",
    manager: "IMC",
    chassis: "IPU_Card",
    adapter: "IPU",
    firmware: { os: "IPU_OS", nic: "IPU_NVM", bmc: "IMC_Firmware" },
    manufacturer: "Intel",
  },
};

/** The ids of `vendor`. */
export function vendorIds(vendor: string): VendorIds {
  const ids = IDS[vendor];
  if (!ids) throw new Error(`unknown DPU vendor '${vendor}'`);
  return ids;
}

/** Marketing names of the models. */
export const MODEL_NAMES: Record<string, string> = {
  "bluefield-2": "BlueField-2 DPU",
  "bluefield-3": "BlueField-3 DPU",
  "pensando-dsc2": "Pensando DSC2-200",
  "ipu-e2000": "IPU E2000",
};
