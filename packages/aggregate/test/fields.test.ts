import { fieldsRead } from '../src/runtime/fields';

// The fields an op declares it reads (the runtime decodes only those): every field an expression
// touches, with aliases and literals left out.
test('fields read by group keys, aggregate arguments, predicates and nested paths', () => {
  expect(fieldsRead(['COALESCE(wps_device_name, sa_resolved) AS device', undefined, 'ts'])?.sort()).toEqual(['sa_resolved', 'ts', 'wps_device_name']);
  expect(fieldsRead(["TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd') AS day", 'type_subtype AS subtype', 'subtype_name'])?.sort()).toEqual(['subtype_name', 'ts', 'type_subtype']);
  expect(fieldsRead(['vendor_ies[0].oui = \'00:50:f2\' AND signal_dbm > -60'])).toEqual(expect.arrayContaining(['vendor_ies', 'signal_dbm']));
  expect(fieldsRead(['wlan.sa IS NOT NULL'])).toEqual(expect.arrayContaining(['wlan', 'wlan.sa']));
  expect(fieldsRead(['CAST(seq AS INT) AS n'])).toEqual(['seq']);
  expect(fieldsRead(['*', ''])).toEqual([]);
  expect(fieldsRead(['type_subtype =='])).toBeUndefined();
});
