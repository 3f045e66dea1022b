// Vendor resolution without Wireshark's manuf file: the `oui-data` fallback, selected by pointing
// the resolver at a directory without manuf (as PCAPFLOW_MANUF_DIR does for the process-wide one).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MacResolver, macBytes } from '../src/oui';
import type * as OuiModule from '../src/oui';
import { shortVendorName } from '../src/oui/fallback';

const TMP = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-nomanuf-'));
const MISSING = path.join(TMP, 'no-such-dir');
afterAll(() => rmSync(TMP, { recursive: true, force: true }));
const WS_MANUF = '/usr/share/wireshark/manuf';

const res = (r: MacResolver, mac: string): string => r.resolve(macBytes(mac)!);

describe('vendor names without the Wireshark manuf file', () => {
  const fb = new MacResolver(MISSING);

  it('come from oui-data', () => {
    expect(fb.source).toBe('oui-data');
    expect(fb.hasData).toBe(true);
  });

  it('have the Wireshark form: short name and the remaining octets', () => {
    expect(res(fb, 'f4:f2:6d:e5:05:62')).toBe('Tp-LinkT_e5:05:62'); // TP-LINK TECHNOLOGIES CO.,LTD.
    expect(res(fb, '00:0c:41:82:b2:55')).toBe('Cisco-Li_82:b2:55'); // Cisco-Linksys, LLC
    expect(res(fb, '70:b3:d5:00:1a:bc')).toBe('SOREDIto_0a:bc'); // MA-S (/36) block
    expect(res(fb, 'ff:ff:ff:ff:ff:ff')).toBe('Broadcast');
    expect(res(fb, '01:00:5e:7f:ff:fa')).toBe('IPv4mcast_7f:ff:fa');
    expect(res(fb, '33:33:00:00:00:fb')).toBe('IPv6mcast_fb');
    expect(res(fb, '02:00:00:00:00:01')).toBe('02:00:00:00:00:01'); // locally administered: no vendor
    expect(fb.ouiName(0xf4f26d)).toBe('Tp-LinkT');
  });

  it('are what the process-wide resolver uses when PCAPFLOW_MANUF_DIR has no manuf', () => {
    const saved = process.env.PCAPFLOW_MANUF_DIR;
    process.env.PCAPFLOW_MANUF_DIR = MISSING;
    try {
      jest.isolateModules(() => {
        // a fresh module: getMacResolver() caches its resolver
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const oui = require('../src/oui') as typeof OuiModule;
        expect(oui.getMacResolver().source).toBe('oui-data');
        expect(oui.getMacResolver().resolveString('F4-F2-6D-E5-05-62')).toBe('Tp-LinkT_e5:05:62');
      });
    } finally {
      if (saved === undefined) delete process.env.PCAPFLOW_MANUF_DIR;
      else process.env.PCAPFLOW_MANUF_DIR = saved;
    }
  });

  it('shorten IEEE names like make-manuf.py', () => {
    expect(shortVendorName('TP-LINK TECHNOLOGIES CO.,LTD.')).toBe('Tp-LinkT');
    expect(shortVendorName('Cisco-Linksys, LLC')).toBe('Cisco-Li');
    expect(shortVendorName('CIMSYS Inc')).toBe('CIMSYS');
    expect(shortVendorName('XEROX CORPORATION')).toBe('Xerox');
    expect(shortVendorName('Apple, Inc.')).toBe('Apple');
    expect(shortVendorName('Samsung Electronics Co.,Ltd')).toBe('SamsungE');
    expect(shortVendorName('The Limited')).toBe('TheLimit'); // nothing would be left: keep the terms
  });

  (existsSync(WS_MANUF) ? it : it.skip)('mostly equal the names of the installed manuf file (24-bit OUIs)', () => {
    const ws = new MacResolver(path.dirname(WS_MANUF));
    expect(ws.source).toBe('manuf');
    let n = 0;
    let same = 0;
    for (const line of readFileSync(WS_MANUF, 'utf8').split('\n')) {
      const m = /^([0-9A-F]{2}):([0-9A-F]{2}):([0-9A-F]{2})\t/.exec(line);
      if (!m) continue;
      const b = Uint8Array.from([parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16), 0x12, 0x34, 0x56]);
      n++;
      if (ws.resolve(b) === fb.resolve(b)) same++;
    }
    expect(n).toBeGreaterThan(30000);
    // 97.4% with manuf of Wireshark 4.0.17 and oui-data 2.1.9: the rest are companies renamed since
    expect(same / n).toBeGreaterThan(0.95);
  });
});
