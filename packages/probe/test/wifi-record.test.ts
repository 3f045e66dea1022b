// Typed record, MAC helpers and OUI resolution.
import { readCapture } from '../src/capture';
import { WifiDecoder, decodeWifi, toRecord, macToString, normalizeMac, isLocallyAdministeredMac, isMulticastMac, getMacResolver, mhzToChannel, subtypeName } from '../src/wifi';
import { readCorpusFile, requireCorpus } from './helpers/corpus';

describe('typed record', () => {
  requireCorpus();
  it('probe response of aircrack-ng__test1 frame 1', () => {
    const [p] = readCapture(readCorpusFile('wifi', 'aircrack-ng__test1.pcap'));
    const r = decodeWifi(p);
    expect(r).toMatchObject({
      ts: 1537621366598.171, type_subtype: 5, subtype_name: 'probe_resp', fc_type: 0, channel: 6, frequency: 2437,
      signal_dbm: -87, duration_us: 3656, ra: '1c:cd:e5:57:56:2a', ra_resolved: 'Shanghai_57:56:2a',
      ta: 'f8:1a:67:e5:05:62', ta_resolved: 'Tp-LinkT_e5:05:62', bssid: 'f8:1a:67:e5:05:62', ssid: 'Smile)',
      ssid_hex: '536d696c6529', country: 'UA', wps_device_name: 'Wireless Router TL-WR740N', malformed: false, sta: null,
    });
    expect(r.vendor_ies.map((v) => [v.oui_hex, v.oui_type])).toEqual([
      ['00:50:f2', 1], ['00:50:f2', 2], ['00:90:4c', 51], ['00:90:4c', 52], ['00:03:7f', 1], ['00:50:f2', 4],
    ]);
    expect(typeof r.seq).toBe('number');
  });

  it('decoder scratch is reused (no per-frame allocation of the frame object)', () => {
    const dec = new WifiDecoder();
    const pk = [...readCapture(readCorpusFile('wifi', 'aircrack-ng__test1.pcap'))];
    const a = dec.decode(pk[0].data, 0, pk[0].capLen, pk[0].origLen, pk[0].linktype);
    const b = dec.decode(pk[1].data, 0, pk[1].capLen, pk[1].origLen, pk[1].linktype);
    expect(a).toBe(b);
    expect(toRecord(b).ssid).toBe('ogogo');
  });
});

describe('MAC helpers and resolution', () => {
  it('formats and normalises', () => {
    expect(macToString(Uint8Array.from([0xf8, 0x1a, 0x67, 0xe5, 0x05, 0x62]))).toBe('f8:1a:67:e5:05:62');
    expect(normalizeMac('F8-1A-67-E5-05-62')).toBe('f8:1a:67:e5:05:62');
    expect(normalizeMac('f81a.67e5.0562')).toBe('f8:1a:67:e5:05:62');
    expect(normalizeMac('nope')).toBeUndefined();
    expect(isLocallyAdministeredMac('da:a1:19:22:69:42')).toBe(true);
    expect(isLocallyAdministeredMac('f8:1a:67:e5:05:62')).toBe(false);
    expect(isMulticastMac('01:00:5e:00:00:fb')).toBe(true);
  });

  it('resolves like tshark 4.0.17 with the Wireshark manuf/wka files', () => {
    const r = getMacResolver();
    expect(r.hasData).toBe(true); // CI installs tshark (libwireshark-data)
    expect(r.resolveString('ff:ff:ff:ff:ff:ff')).toBe('Broadcast');
    expect(r.resolveString('f8:1a:67:e5:05:62')).toBe('Tp-LinkT_e5:05:62');
    expect(r.resolveString('33:33:00:00:00:02')).toBe('IPv6mcast_02');
    expect(r.resolveString('33:33:00:01:00:02')).toBe('IPv6mcast_01:00:02');
    expect(r.resolveString('01:00:5e:00:00:fb')).toBe('IPv4mcast_fb');
    expect(r.resolveString('da:a1:19:22:69:42')).toBe('Google_22:69:42'); // LA bit set but registered in manuf
    expect(r.resolveString('02:00:00:00:01:00')).toBe('02:00:00:00:01:00');
    expect(r.resolveString('3c:2c:94:1e:79:6e')).toBe('杭州德澜科技有限_1e:79:6e');
  });

  it('channel numbers and subtype names', () => {
    expect([mhzToChannel(2412), mhzToChannel(2437), mhzToChannel(2484), mhzToChannel(5180), mhzToChannel(4920), mhzToChannel(900)]).toEqual([1, 6, 14, 36, 184, -1]);
    expect(subtypeName(0x1d)).toBe('ack');
    expect(subtypeName(0x162)).toBe('0x0162');
  });
});
