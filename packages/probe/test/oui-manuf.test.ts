// Reading Wireshark's manuf/wka files: the lines the resolver parses by hand (names kept as byte
// ranges, decoded on first use) must give what the general parser gives, and lookups must follow
// Wireshark 4.0's probe order (ranged entries at 47..24 bits, the 24-bit OUI with the multicast
// bit cleared on a miss, ranged entries at 23..1 bits, the bare address).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MacResolver } from '../src/oui';

const DIR = mkdtempSync(path.join(os.tmpdir(), 'pcapflow-manuf-'));
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

const MANUF = [
  '# comment\r',
  '00:11:22\tCRLFName\tLong name\r', // CRLF line ends
  '00:11:23\t\u00a0Nbsp\u00a0\tx', // Unicode spaces around the name are trimmed (String#trim)
  '00:11:24\tSomé', // non-ASCII name
  '00:11:25\tA  B\tc', // two spaces separate columns
  '00:11:26\tA#B', // '#' starts a comment
  '00:11:27\t  Sp  ',
  '0011.2800.0000/24\tDotted', // not an address form of the file
  '00-11-29\tDash',
  '00:11:2B:10:00:00/28\tGood28',
  '00:11:2B:40\tFour', // 4 groups: a /32 entry
  '00:11:2C  TwoSpaces  Name',
  '00:11:2d\tlower',
  '00:11:2E\t',
  '01:00:00:00:00:00/8\tLow8',
  '02:00:00:00:00:00/7\tLow7',
  '00:11:30\tLast', // no newline at the end of the file
].join('\n');
const WKA = [
  '33-33-00-00-00-00/16\tIPv6mcast',
  '01-00-5E/25\tIPv4mcast',
  'ff-ff-ff-ff-ff-ff\tBroadcast',
  '00:11:32\tWka24', // 24 bits in wka: a ranged entry, not an OUI
  '00-11-31-00/20\tWkaRange',
].join('\n');
writeFileSync(path.join(DIR, 'manuf'), MANUF);
writeFileSync(path.join(DIR, 'wka'), WKA);

describe('MacResolver with a manuf/wka directory', () => {
  const r = new MacResolver(DIR);

  it('reads the files as Wireshark data', () => {
    expect(r.source).toBe('manuf');
    expect(r.hasData).toBe(true);
  });

  it.each([
    ['00:11:22:01:02:03', 'CRLFName_01:02:03'],
    ['01:11:22:01:02:03', 'CRLFName_01:02:03'], // multicast bit cleared for the OUI
    ['00:11:23:01:02:03', 'Nbsp_01:02:03'],
    ['00:11:24:01:02:03', 'Somé_01:02:03'],
    ['00:11:25:01:02:03', 'A_01:02:03'],
    ['00:11:26:01:02:03', 'A_01:02:03'],
    ['00:11:27:01:02:03', 'Sp_01:02:03'],
    ['00:11:28:01:02:03', '00:11:28:01:02:03'],
    ['00:11:29:01:02:03', 'Dash_01:02:03'],
    ['00:11:2b:15:02:03', 'Good28_05:02:03'],
    ['00:11:2b:40:00:00', 'Four_00'], // a /32 entry already matches the 47-bit probe
    ['00:11:2c:01:02:03', 'TwoSpaces_01:02:03'],
    ['00:11:2d:01:02:03', 'lower_01:02:03'],
    ['00:11:2e:01:02:03', '00:11:2e:01:02:03'],
    ['00:11:30:01:02:03', 'WkaRange_01:02:03'], // the /20 range is probed before the OUI "Last"
    ['00:11:31:0f:02:03', 'WkaRange_01:0f:02:03'],
    ['00:11:32:01:02:03', 'Wka24_01:02:03'],
    ['33:33:00:00:00:02', 'IPv6mcast_02'],
    ['33:33:ff:00:00:02', 'IPv6mcast_ff:00:00:02'],
    ['01:00:5e:7f:ff:fa', 'IPv4mcast_7f:ff:fa'],
    ['01:00:5e:80:00:01', 'IPv4mcast_80:00:01'],
    ['ff:ff:ff:ff:ff:ff', 'Broadcast'],
    ['02:11:22:33:44:55', 'Low7_11:22:33:44:55'], // the /7 entry's key is hit by the 8-bit probe
    ['01:22:33:44:55:66', 'Low8_22:33:44:55:66'],
    ['03:22:33:44:55:66', 'Low7_01:22:33:44:55:66'],
    ['06:22:33:44:55:66', '06:22:33:44:55:66'],
  ])('%s -> %s', (mac, name) => {
    expect(r.resolveString(mac)).toBe(name);
    expect(r.resolveString(mac)).toBe(name); // cached
  });

  it('gives OUI names', () => {
    expect(r.ouiName(0x001122)).toBe('CRLFName');
    expect(r.ouiName(0x001124)).toBe('Somé');
    expect(r.ouiName(0x001130)).toBe('Last');
    expect(r.ouiName(0x001131)).toBeUndefined();
    expect(r.ouiName(0x001132)).toBeUndefined();
  });

  it('formats addresses as macToString does', () => {
    const b = Uint8Array.from([0, 0xaa, 0x0b, 0xcc, 0x0d, 0xee, 0xff]);
    expect(r.macString(b, 1)).toBe('aa:0b:cc:0d:ee:ff');
  });
});
