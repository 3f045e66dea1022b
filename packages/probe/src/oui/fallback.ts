// Vendor names when Wireshark's manuf file is not installed: the IEEE registries from the npm
// package `oui-data` (read only then), shortened the way Wireshark's tools/make-manuf.py makes
// the manuf short names ("TP-LINK TECHNOLOGIES CO.,LTD." -> "Tp-LinkT"). Approximate: the IEEE
// names of today may differ from those of the manuf file a given tshark ships, and the well-known
// address list (wka) is reduced to broadcast and the IPv4/IPv6 multicast ranges.

import { readFileSync } from 'node:fs';

// Business types and general terms make-manuf.py drops (after punctuation became spaces).
const GENERAL_TERMS = [
  'a +s', 'ab', 'ag', 'b ?v', 'closed joint stock company', 'co', 'company', 'corp', 'corporation', 'de c ?v', 'gmbh',
  'holding', 'inc', 'incorporated', 'jsc', 'kg', 'k k', 'limited', 'llc', 'ltd', 'n ?v', 'oao', 'of',
  'open joint stock company', 'ooo', 'oü', 'oy', 'oyj', 'plc', 'pty', 'pvt', 's ?a ?r ?l', 's ?a', 's ?p ?a', 'sp ?k',
  's ?r ?l', 'systems', 'the', 'zao', 'z ?o ?o',
];
// Python's \W on str is Unicode-aware
const TERMS_RE = new RegExp(`[^\\p{L}\\p{N}_](?:${GENERAL_TERMS.join('|')})(?= )`, 'giu');

function isCased(c: string): boolean {
  return c.toLowerCase() !== c.toUpperCase();
}

/** Python str.title(): upper-case the first cased character of each run, lower-case the rest. */
function title(s: string): string {
  let out = '';
  let prevCased = false;
  for (const c of s) {
    if (isCased(c)) {
      out += prevCased ? c.toLowerCase() : c.toUpperCase();
      prevCased = true;
    } else {
      out += c;
      prevCased = false;
    }
  }
  return out;
}

/** Wireshark's 8-character manuf short name for an IEEE organization name. */
export function shortVendorName(org: string): string {
  let m = ` ${org.split(/\s+/).filter((w) => w.length > 0).join(' ')} `;
  if (m === m.toUpperCase() && m !== m.toLowerCase()) m = title(m);
  m = m.replace(/["',./:()]/g, ' ').split(' & ').join(' ');
  const plain = m.replace(TERMS_RE, '');
  if (!/^ *$/.test(plain)) m = plain;
  m = m.replace(/\s+/g, '');
  return Array.from(m).slice(0, 8).join('');
}

/** Receives one table entry: the address (`hi`: top 24 bits, `lo`: low 24 bits), its prefix length, its name. */
export type EntrySink = (hi: number, lo: number, bits: number, name: string) => void;

/**
 * Reads `oui-data` (keys of 6 hex digits for 24-bit blocks, 7 for MA-M, 9 for MA-S; values are
 * "Organization\naddress...") into `add`, names still the IEEE organization names (the resolver
 * shortens them with shortVendorName on first use: most of the 50k are never looked up, and
 * shortening all would cost more than parsing the JSON). False when the package cannot be found.
 */
export function loadOuiData(add: EntrySink): boolean {
  let raw: Record<string, string>;
  try {
    raw = JSON.parse(readFileSync(require.resolve('oui-data'), 'utf8')) as Record<string, string>;
  } catch {
    return false;
  }
  for (const hex of Object.keys(raw)) {
    const v = raw[hex];
    const nl = v.indexOf('\n');
    const org = (nl < 0 ? v : v.slice(0, nl)).trim();
    const val = parseInt(hex, 16);
    if (org.length === 0 || !Number.isFinite(val)) continue;
    const bits = hex.length * 4;
    if (bits !== 24 && bits !== 28 && bits !== 36) continue;
    const key = val * 2 ** (48 - bits);
    add(Math.floor(key / 16777216), key % 16777216, bits, org);
  }
  return true;
}

/** The well-known (wka) entries tshark shows most often; their names are final (not shortened). */
export function builtinWka(add: EntrySink): void {
  add(0xffffff, 0xffffff, 48, 'Broadcast');
  add(0x01005e, 0, 25, 'IPv4mcast'); // 01:00:5e/25
  add(0x333300, 0, 16, 'IPv6mcast'); // 33:33/16
}
