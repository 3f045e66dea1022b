// LINKTYPE_* values (tcpdump.org/linktypes.html) that the probe decodes.
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_IEEE802_11 = 105;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IEEE802_11_PRISM = 119;
export const LINKTYPE_IEEE802_11_RADIOTAP = 127;
export const LINKTYPE_IEEE802_11_AVS = 163;
export const LINKTYPE_PPI = 192;
export const LINKTYPE_LINUX_SLL2 = 276;

/** Link types handled by the Wi-Fi decoder. */
export function isWifiLinktype(lt: number): boolean {
  return lt === LINKTYPE_IEEE802_11 || lt === LINKTYPE_IEEE802_11_RADIOTAP || lt === LINKTYPE_IEEE802_11_PRISM ||
    lt === LINKTYPE_IEEE802_11_AVS || lt === LINKTYPE_PPI;
}
