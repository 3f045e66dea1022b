// The byte writer (writeEkWifi) on the inputs its cached fragments and fast paths do not see in the
// corpus: every byte value in text elements, timestamps and radio values outside its tables.
import { WifiDecoder, type WifiFrame } from '../src/wifi/decoder';
import { EkSink, formatEkWifi, writeEkWifi } from '../src/ek/wifi';

const ie = (tag: number, body: number[]): number[] => [tag, body.length, ...body];

/** A raw 802.11 (linktype 105) beacon with the given information elements. */
function beacon(ies: number[]): Uint8Array {
  const hdr = [0x80, 0x00, 0, 0, ...Array(6).fill(0xff), 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x10, 0x00];
  const fixed = [...Array(8).fill(0), 0x64, 0x00, 0x01, 0x04];
  return Uint8Array.from([...hdr, ...fixed, ...ies]);
}

/** WPS vendor element carrying a Device Name attribute (0x1011). */
const wpsName = (name: number[]): number[] => ie(221, [0x00, 0x50, 0xf2, 0x04, 0x10, 0x11, 0x00, name.length, ...name]);

/** What tshark shows for an ENC_ASCII string: up to the first NUL, bytes >= 0x80 as U+FFFD. */
function asciiText(bytes: number[]): string {
  const end = bytes.indexOf(0);
  return (end < 0 ? bytes : bytes.slice(0, end)).map((c) => (c >= 0x80 ? '\ufffd' : String.fromCharCode(c))).join('');
}

function written(fr: WifiFrame): string {
  const sink = new EkSink(16);
  writeEkWifi(fr, sink);
  return sink.take().toString('utf8');
}

describe('writeEkWifi', () => {
  it('writes every byte value of WPS device names and country codes as JSON text, like formatEkWifi', () => {
    const all = Array.from({ length: 255 }, (_, i) => i + 1);
    const names = [all.slice(0, 120), all.slice(120, 240), [...all.slice(240), 0x41, 0, 0x42]];
    const countries = [[0x22, 0x5c, 0x20], [0x0a, 0x7f, 0x20], [0xc3, 0x01, 0x20]];
    const frame = beacon([...ie(0, [0x61, 0x62]), ...countries.flatMap((c) => ie(7, c)), ...names.flatMap(wpsName)]);
    const fr = new WifiDecoder(undefined, true).decode(frame, 0, frame.length, frame.length, 105, 1700000000, 5e8);
    expect(fr.wpsCount).toBe(3);
    expect(fr.countryCount).toBe(3);
    const line = written(fr);
    expect(line).toBe(formatEkWifi(fr) + '\n');
    const layers = JSON.parse(line).layers;
    expect(layers.wps_device_name).toEqual(names.map(asciiText));
    expect(layers.wlan_country_info_code).toEqual(countries.map((c) => asciiText(c.slice(0, 2))));
    expect(layers.wlan_ssid).toEqual(['6162']);
  });

  it('writes timestamps and radio values outside its tables like formatEkWifi', () => {
    const frame = beacon(ie(0, []));
    const dec = new WifiDecoder(undefined, true);
    const cases: Array<[number, number]> = [[0, 0], [5, 999_999_999], [999, 1_000_000], [1000, 0], [1_700_000_123, 123_456_789], [2 ** 32 + 5, 7e6], [1_700_000_000, 1_500_000_000]];
    for (const [sec, nsec] of cases) {
      const fr = dec.decode(frame, 0, frame.length, frame.length, 105, sec, nsec);
      const ms = Math.floor(nsec / 1e6);
      expect(JSON.parse(written(fr)).timestamp).toBe(`${sec}${String(ms).padStart(3, '0')}`);
      expect(written(fr)).toBe(formatEkWifi(fr) + '\n');
    }
    const fr = dec.decode(frame, 0, frame.length, frame.length, 105, 1_700_000_000, 0);
    for (const [channel, signal, duration] of [[0, -256, 0], [4095, 255, 65535], [4096, 256, 65536], [-1, -257, 1e9], [14.5, -0.5, 2 ** 40]]) {
      Object.assign(fr, { hasChannel: true, channel, hasSignal: true, signalDbm: signal, hasDuration: true, radioDuration: duration });
      const layers = JSON.parse(written(fr)).layers;
      expect([layers.wlan_radio_channel, layers.wlan_radio_signal_dbm, layers.wlan_radio_duration]).toEqual([[String(channel)], [String(signal)], [String(duration)]]);
      expect(written(fr)).toBe(formatEkWifi(fr) + '\n');
    }
  });

  it('omits the comma before the first key when a frame has neither frame control nor channel', () => {
    const frame = beacon([]);
    const fr = new WifiDecoder(undefined, true).decode(frame, 0, frame.length, frame.length, 105, 1_700_000_000, 0);
    Object.assign(fr, { hasFc: false, hasSignal: true, signalDbm: -40 });
    const line = written(fr);
    expect(line).toBe(formatEkWifi(fr) + '\n');
    expect(Object.keys(JSON.parse(line).layers)[0]).toBe('wlan_radio_signal_dbm');
  });
});
