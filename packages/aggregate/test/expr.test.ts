import fc from 'fast-check';
import { compileExpression, compilePredicate, ExpressionError, FUNCTIONS } from '../src/expr';

const ev = (src: string, rec: Record<string, unknown> = {}) => compileExpression(src).evaluate(rec);

const rec = {
  sa: 'aa:bb:cc:dd:ee:ff',
  device_name: null,
  sa_resolved: 'Apple_dd:ee:ff',
  wlan: { sa: '11:22:33:44:55:66', fc: { type: 0, subtype: 4 } },
  'radiotap.dbm_antsignal': -61,
  vendor_ies: [{ oui: '00:50:f2', type: 4 }, { oui: '00:17:f2', type: 10 }],
  ssid: 'FreeWifi',
  n: 5,
  s5: '5',
  t: true,
  tags: ['a', 'b'],
  'field with space': 1,
  select: 'kw',
};

describe('literals, arithmetic and operator precedence', () => {
  test.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['2 * 3 % 4', 2],
    ['10 / 4', 2.5],
    ['7 % 3', 1],
    ['-2 * -3', 6],
    ['- n + 1', -4],
    ['1.5e2', 150],
    ['.5 + 0.25', 0.75],
    ['0x1F', 31],
    ["'it''s'", "it's"],
    ["'back\\slash'", 'back\\slash'],
    ['TRUE', true],
    ['false', false],
    ['null', null],
    ["'a' || 'b' || 1", 'ab1'],
    ["1 + 2 || 'x'", '3x'],
    ['1 < 2 AND 2 < 3 OR FALSE', true],
    ['NOT 1 = 2', true],
    ['NOT TRUE OR TRUE', true],
    ['1 + 1 = 2', true],
  ])('%s → %p', (src, want) => {
    expect(ev(src, rec)).toEqual(want);
  });

  test('division and modulo by zero give null', () => {
    expect(ev('1 / 0')).toBeNull();
    expect(ev('1 % 0')).toBeNull();
  });

  test('numeric strings coerce in arithmetic, other strings give null', () => {
    expect(ev("'5' + 1")).toBe(6);
    expect(ev("'x' + 1")).toBeNull();
  });

  test('comments and newlines are allowed', () => {
    expect(ev('1 + -- one\n 2')).toBe(3);
  });
});

describe('field access', () => {
  test('plain, nested, array index, backquoted, keyword-named fields', () => {
    expect(ev('sa', rec)).toBe('aa:bb:cc:dd:ee:ff');
    expect(ev('wlan.sa', rec)).toBe('11:22:33:44:55:66');
    expect(ev('wlan.fc.subtype', rec)).toBe(4);
    expect(ev('vendor_ies[0].oui', rec)).toBe('00:50:f2');
    expect(ev('vendor_ies[1].type', rec)).toBe(10);
    expect(ev("vendor_ies[1]['oui']", rec)).toBe('00:17:f2');
    expect(ev('vendor_ies[1 + 0].type', rec)).toBe(10);
    expect(ev('`field with space` + 1', rec)).toBe(2);
    expect(ev('`select`', rec)).toBe('kw');
    expect(ev('`radiotap.dbm_antsignal`', rec)).toBe(-61);
  });

  test('a dotted path falls back to a flattened field of that name', () => {
    expect(ev('radiotap.dbm_antsignal', rec)).toBe(-61);
  });

  test('missing paths are null, never an exception', () => {
    expect(ev('nope', rec)).toBeNull();
    expect(ev('nope.deeper.still', rec)).toBeNull();
    expect(ev('vendor_ies[7].oui', rec)).toBeNull();
    expect(ev('sa.length', rec)).toBeNull();
    expect(ev('n[0]', rec)).toBeNull();
  });

  test('prototype members are not reachable', () => {
    expect(ev('constructor', rec)).toBeNull();
    expect(ev('`__proto__`', rec)).toBeNull();
    expect(ev('wlan.constructor', rec)).toBeNull();
    expect(ev("wlan['__proto__']", rec)).toBeNull();
    expect(ev('constructor', { constructor: 'own' })).toBe('own');
  });

  test('referenced fields are reported', () => {
    const e = compileExpression("COALESCE(device_name, wlan.sa) || vendor_ies[0].oui || `a b` || device_name");
    expect(e.fields).toEqual(['device_name', 'wlan.sa', 'vendor_ies[0].oui', '`a b`']);
    expect(e.roots).toEqual(['device_name', 'wlan', 'vendor_ies', 'a b']);
    expect(e.constant).toBe(false);
    expect(compileExpression("UPPER('x') || 1").constant).toBe(true);
  });
});

describe('comparisons and null semantics', () => {
  test.each([
    ['n = 5', true],
    ['n == 5', true],
    ['n != 5', false],
    ['n <> 4', true],
    ['n < 6', true],
    ['n <= 5', true],
    ['n > 5', false],
    ['n >= 5', true],
    ["s5 = 5", true],
    ["s5 < 10", true],
    ["'abc' < 'abd'", true],
    ["ssid = 'FreeWifi'", true],
    ["ssid = 'freewifi'", false],
    ["t = TRUE", true],
    ["n = 'five'", false],
  ])('%s → %p', (src, want) => {
    expect(ev(src, rec)).toBe(want);
  });

  test.each([
    ['device_name = 1', null],
    ['NULL = NULL', null],
    ['missing > 1', null],
    ['missing != 1', null],
    ['NOT missing = 1', null],
    ['missing = 1 AND FALSE', false],
    ['missing = 1 AND TRUE', null],
    ['missing = 1 OR TRUE', true],
    ['missing = 1 OR FALSE', null],
    ['1 IN (2, NULL)', null],
    ['1 IN (1, NULL)', true],
    ['1 NOT IN (2, NULL)', null],
    ['missing IN (1, 2)', null],
    ['missing + 1', null],
    ["missing || 'x'", null],
    ['missing BETWEEN 1 AND 2', null],
    ["missing LIKE 'a%'", null],
    ['-missing', null],
    ['n > "missing"'.replace(/"/g, '`'), null],
    ["n > 'abc'", null],
  ])('%s → %p', (src, want) => {
    expect(ev(src, rec)).toBe(want);
  });

  test('a predicate accepts only true', () => {
    expect(compilePredicate('missing = 1').test(rec)).toBe(false);
    expect(compilePredicate('NOT (missing = 1)').test(rec)).toBe(false);
    expect(compilePredicate('missing IS NULL').test(rec)).toBe(true);
    expect(compilePredicate('sa IS NOT NULL AND n > 4').test(rec)).toBe(true);
    expect(compilePredicate('device_name IS NULL').test(rec)).toBe(true);
    expect(compilePredicate('device_name IS NOT NULL').test(rec)).toBe(false);
  });
});

describe('IN, LIKE, BETWEEN, CASE', () => {
  test('IN with literals and expressions', () => {
    expect(ev('n IN (1, 5, 9)', rec)).toBe(true);
    expect(ev('n NOT IN (1, 9)', rec)).toBe(true);
    expect(ev("ssid IN ('x', 'FreeWifi')", rec)).toBe(true);
    expect(ev("s5 IN (5)", rec)).toBe(true);
    expect(ev('n IN (n - 1, n)', rec)).toBe(true);
    expect(ev('wlan.fc.subtype IN (4, 5, 8)', rec)).toBe(true);
  });

  test('LIKE wildcards and escapes', () => {
    expect(ev("ssid LIKE 'Free%'", rec)).toBe(true);
    expect(ev("ssid LIKE 'free%'", rec)).toBe(false);
    expect(ev("ssid LIKE '%Wi_i'", rec)).toBe(true);
    expect(ev("ssid LIKE 'Free'", rec)).toBe(false);
    expect(ev("ssid NOT LIKE '%x%'", rec)).toBe(true);
    expect(ev("'50%' LIKE '50\\%'")).toBe(true);
    expect(ev("'50x' LIKE '50\\%'")).toBe(false);
    expect(ev("'a.c' LIKE 'a.c'")).toBe(true);
    expect(ev("'abc' LIKE 'a.c'")).toBe(false);
    expect(ev("ssid LIKE CONCAT(SUBSTRING(ssid, 1, 2), '%')", rec)).toBe(true);
  });

  test('BETWEEN is inclusive and binds tighter than AND', () => {
    expect(ev('n BETWEEN 5 AND 6', rec)).toBe(true);
    expect(ev('n BETWEEN 1 AND 4', rec)).toBe(false);
    expect(ev('n NOT BETWEEN 1 AND 4 AND TRUE', rec)).toBe(true);
  });

  test('searched and simple CASE', () => {
    expect(ev("CASE WHEN n > 10 THEN 'big' WHEN n > 3 THEN 'mid' ELSE 'small' END", rec)).toBe('mid');
    expect(ev("CASE WHEN missing > 1 THEN 'x' END", rec)).toBeNull();
    expect(ev("CASE wlan.fc.subtype WHEN 4 THEN 'probe_req' WHEN 5 THEN 'probe_resp' ELSE 'other' END", rec)).toBe('probe_req');
    expect(ev("CASE missing WHEN NULL THEN 'null matched' ELSE 'no' END", rec)).toBe('no');
  });
});

describe('functions', () => {
  test.each([
    ['COALESCE(device_name, sa_resolved)', 'Apple_dd:ee:ff'],
    ['COALESCE(missing, device_name)', null],
    ["IFNULL(device_name, 'unknown')", 'unknown'],
    ['IFNULL(n, 0)', 5],
    ['NULLIF(n, 5)', null],
    ["UPPER('abc')", 'ABC'],
    ["LOWER('AbC')", 'abc'],
    ["LEN('hello')", 5],
    ['LENGTH(tags)', 2],
    ["SUBSTRING('hello', 2)", 'ello'],
    ["SUBSTRING('hello', 2, 3)", 'ell'],
    ["SUBSTRING('hello', -3, 2)", 'll'],
    ["SUBSTRING('hello', 9)", ''],
    ["CONCAT('a', NULL, 1, TRUE)", 'a1true'],
    ["CONCAT_WS('-', 'a', NULL, 'b')", 'a-b'],
    ["REPLACE(sa, ':', '')", 'aabbccddeeff'],
    ["SPLIT('a,b,,c', ',')", ['a', 'b', '', 'c']],
    ["SPLIT(sa, ':')[0]", 'aa'],
    ["TRIM('  x  ')", 'x'],
    ["LTRIM('  x ')", 'x '],
    ["RTRIM(' x  ')", ' x'],
    ['ROUND(2.5)', 3],
    ['ROUND(-2.5)', -3],
    ['ROUND(2.4)', 2],
    ['ROUND(1.005, 2)', 1.01],
    ['ROUND(1234.5678, 1)', 1234.6],
    ['FLOOR(-1.5)', -2],
    ['CEIL(1.2)', 2],
    ['CEILING(-1.2)', -1],
    ['ABS(-3)', 3],
    ['GREATEST(1, 7, NULL, 3)', 7],
    ['LEAST(4, 2, 9)', 2],
    ["ARRAY_CONTAINS(tags, 'b')", true],
    ["ARRAY_CONTAINS(tags, 'z')", false],
    ["ARRAY_CONTAINS(missing, 'z')", null],
    ['ARRAY_LENGTH(vendor_ies)', 2],
    ['ARRAY_LENGTH(sa)', null],
    ["CAST('12' AS INT) + 1", 13],
    ["CAST('12.7' AS INTEGER)", 12],
    ["CAST('-12.7' AS BIGINT)", -12],
    ["CAST('x' AS INT)", null],
    ["CAST('2.5' AS DOUBLE)", 2.5],
    ['CAST(5 AS STRING)', '5'],
    ['CAST(tags AS VARCHAR)', '["a","b"]'],
    ["CAST('true' AS BOOLEAN)", true],
    ["CAST('no' AS BOOLEAN)", false],
    ['CAST(0 AS BOOLEAN)', false],
    ["CAST('maybe' AS BOOLEAN)", null],
    ['UPPER(missing)', null],
  ])('%s → %p', (src, want) => {
    expect(ev(src, rec)).toEqual(want);
  });

  test('function names are case-insensitive', () => {
    expect(ev("upper('a') || Lower('B')")).toBe('Ab');
  });

  test('COALESCE evaluates lazily and short-circuits', () => {
    expect(ev('COALESCE(n, 1 / 0)', rec)).toBe(5);
  });

  test('HASH is a stable non-negative 32-bit integer, distinct for different kinds', () => {
    const h = ev("HASH('aa:bb')") as number;
    expect(Number.isInteger(h)).toBe(true);
    expect(h).toBeGreaterThanOrEqual(0);
    expect(h).toBeLessThan(2 ** 32);
    expect(ev("HASH('aa:bb')")).toBe(h);
    expect(ev("HASH('1')")).not.toBe(ev('HASH(1)'));
    expect(ev('HASH(NULL)')).toBeNull();
    const buckets = new Set<number>();
    for (let i = 0; i < 200; i++) buckets.add(compileExpression('HASH(x) % 16').evaluate({ x: `dev-${i}` }) as number);
    expect(buckets.size).toBe(16);
  });

  // 2024-02-29T13:05:09.007Z, a Thursday (leap day)
  const ts = Date.UTC(2024, 1, 29, 13, 5, 9, 7);
  const tsRec = { ts, iso: '2024-02-29T13:05:09.007Z', summer: Date.UTC(2024, 6, 1, 0, 30, 0, 0) };

  test.each([
    ["TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd')", '2024-02-29'],
    ["TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd HH:mm:ss.SSS')", '2024-02-29 13:05:09.007'],
    ["TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd''T''HH:mm:ssXXX')", '2024-02-29T13:05:09Z'],
    ["TIMESTAMPTOSTRING(ts, 'yy/M/d H:m:s')", '24/2/29 13:5:9'],
    ["TIMESTAMPTOSTRING(ts, 'EEE, d MMM yyyy hh:mm a')", 'Thu, 29 Feb 2024 01:05 PM'],
    ["TIMESTAMPTOSTRING(ts, 'EEEE MMMM D u')", 'Thursday February 60 4'],
    ["TIMESTAMPTOSTRING(ts, 'HH:mm Z', 'Europe/Berlin')", '14:05 +0100'],
    ["TIMESTAMPTOSTRING(summer, 'yyyy-MM-dd HH:mm XXX', 'Europe/Berlin')", '2024-07-01 02:30 +02:00'],
    ["TIMESTAMPTOSTRING(ts, 'yyyy-MM-dd HH:mm', 'America/New_York')", '2024-02-29 08:05'],
    ["TIMESTAMPTOSTRING(summer, 'yyyy-MM-dd HH:mm', 'America/New_York')", '2024-06-30 20:30'],
    ["TIMESTAMPTOSTRING(ts, 'HH:mm', '+05:30')", '18:35'],
    ["TIMESTAMPTOSTRING(iso, 'yyyy-MM-dd')", '2024-02-29'],
    ["TIMESTAMPTOSTRING(missing, 'yyyy')", null],
    ['DAY(ts)', '2024-02-29'],
    ["DAY(ts, 'Pacific/Kiritimati')", '2024-03-01'],
    ["DAY(ts, 'Asia/Tokyo')", '2024-02-29'],
    ['HOUR(ts)', 13],
    ["DATETRUNC(ts, 'day')", Date.UTC(2024, 1, 29)],
    ["DATETRUNC(ts, 'hour')", Date.UTC(2024, 1, 29, 13)],
    ["DATETRUNC(ts, 'minute')", Date.UTC(2024, 1, 29, 13, 5)],
    ["DATETRUNC(ts, 'second')", Date.UTC(2024, 1, 29, 13, 5, 9)],
    ["DATETRUNC(ts, 'week')", Date.UTC(2024, 1, 26)],
    ["DATETRUNC(ts, 'month')", Date.UTC(2024, 1, 1)],
    ["DATETRUNC(ts, 'year')", Date.UTC(2024, 0, 1)],
    ["DATETRUNC(ts, 'day', 'Europe/Berlin')", Date.UTC(2024, 1, 28, 23)],
    ["DATETRUNC(summer, 'day', 'Europe/Berlin')", Date.UTC(2024, 5, 30, 22)],
    ["STRINGTOTIMESTAMP('2024-02-29T13:05:09.007Z')", ts],
    ["STRINGTOTIMESTAMP('garbage')", null],
  ])('%s → %p', (src, want) => {
    expect(compileExpression(src).evaluate(tsRec)).toEqual(want);
  });

  test('NOW() uses the injected clock and is never constant-folded', () => {
    let t = 1000;
    const e = compileExpression('NOW() - ts', { now: () => t });
    expect(e.evaluate({ ts: 400 })).toBe(600);
    t = 2000;
    expect(e.evaluate({ ts: 400 })).toBe(1600);
    expect(compileExpression('NOW()').constant).toBe(false);
  });

  test('every documented function is in the registry', () => {
    for (const f of ['COALESCE', 'IFNULL', 'UPPER', 'LOWER', 'LEN', 'LENGTH', 'SUBSTRING', 'CONCAT', 'REPLACE', 'SPLIT', 'TRIM', 'ROUND', 'FLOOR', 'CEIL', 'ABS', 'HASH', 'TIMESTAMPTOSTRING', 'DAY', 'DATETRUNC', 'NOW', 'ARRAY_CONTAINS', 'ARRAY_LENGTH']) {
      expect(FUNCTIONS[f]).toBeDefined();
    }
  });
});

describe('errors carry the position inside the expression', () => {
  function errorOf(src: string): ExpressionError {
    try {
      compileExpression(src);
    } catch (e) {
      expect(e).toBeInstanceOf(ExpressionError);
      return e as ExpressionError;
    }
    throw new Error(`expected ${src} to fail`);
  }

  test.each([
    ['a +', 3, 1, 4, /end of expression/],
    ["a = 'x", 4, 1, 5, /Unterminated string/],
    ['foo(1)', 0, 1, 1, /Unknown function foo/],
    ['UPPER(a, b)', 0, 1, 1, /UPPER takes 1 argument, got 2/],
    ['SUBSTRING(a)', 0, 1, 1, /SUBSTRING takes 2 to 3 arguments, got 1/],
    ['a b', 2, 1, 3, /Unexpected identifier b/],
    ['a = 1\nAND (b = ', 15, 2, 10, /end of expression/],
    ['x AND\n  y = #', 12, 2, 7, /Unexpected character '#'/],
    ['"double"', 0, 1, 1, /single quotes/],
    ['CAST(a AS BLOB)', 10, 1, 11, /Unknown CAST type/],
    ["TIMESTAMPTOSTRING(ts, 'yyyy-qq')", 0, 1, 1, /Unsupported date pattern letter 'q'/],
    ["TIMESTAMPTOSTRING(ts, 'yyyy', 'Mars/Olympus')", 0, 1, 1, /Unknown time zone/],
    ["DATETRUNC(ts, 'fortnight')", 0, 1, 1, /Unknown time unit/],
    ['CASE WHEN a THEN 1', 18, 1, 19, /Expected END/],
    ['a IN ()', 6, 1, 7, /at least one value/],
    ['a IS 1', 5, 1, 6, /Expected NULL after IS/],
    ['`unterminated', 0, 1, 1, /Unterminated backquoted/],
    ['', 0, 1, 1, /Empty expression/],
    ['a = AND', 4, 1, 5, /Unexpected keyword AND/],
    ['(1 + 2', 6, 1, 7, /close the parenthesis/],
    ['a.', 2, 1, 3, /field name after '.'/],
  ])('%j', (src, offset, line, column, msg) => {
    const e = errorOf(src);
    expect(e.position).toEqual({ offset, line, column });
    expect(e.reason).toMatch(msg);
    expect(e.message).toContain(`line ${line}, column ${column}`);
    expect(e.source).toBe(src);
  });

  test('the excerpt points at the column', () => {
    const e = errorOf('a = 1\n  AND b ==');
    expect(e.excerpt).toBe('  AND b ==\n          ^');
  });

  test('any input either compiles or throws an ExpressionError (never anything else)', () => {
    const alphabet = fc.constantFrom(...'ab1 .,()[]\'`=<>!+-*/%|_ \nANDORNOTINISNULLCASEWHENTHENELSEENDCAST'.split(''), 'AND', 'OR', 'CASE', 'WHEN', 'END', 'IN', 'LIKE', 'UPPER(', 'COALESCE(');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 30 }).map((a) => a.join('')), (src) => {
        try {
          const e = compileExpression(src);
          e.evaluate({ a: 1, b: 'x' });
        } catch (err) {
          if (!(err instanceof ExpressionError)) throw err;
          expect(err.position.offset).toBeGreaterThanOrEqual(0);
          expect(err.position.offset).toBeLessThanOrEqual(src.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('properties', () => {
  test('integer arithmetic and comparisons agree with JavaScript', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 50 }), (a, b, c) => {
        const r = { a, b, c };
        expect(ev('a + b * c', r)).toBe(a + b * c);
        expect(ev('(a - b) % c', r)).toBe((a - b) % c);
        expect(ev('a < b', r)).toBe(a < b);
        expect(ev('a = b OR a > b', r)).toBe(a >= b);
        expect(ev('-a', r)).toBe(-a === 0 ? -a : -a);
        expect(ev('a BETWEEN LEAST(b, c) AND GREATEST(b, c)', r)).toBe(a >= Math.min(b, c) && a <= Math.max(b, c));
      }),
    );
  });

  test('three-valued AND/OR/NOT match the SQL truth tables', () => {
    const vals: [string, boolean | null][] = [['TRUE', true], ['FALSE', false], ['NULL', null]];
    const and = (x: boolean | null, y: boolean | null) => (x === false || y === false ? false : x === null || y === null ? null : true);
    const or = (x: boolean | null, y: boolean | null) => (x === true || y === true ? true : x === null || y === null ? null : false);
    for (const [xs, x] of vals) {
      expect(ev(`NOT ${xs}`)).toBe(x === null ? null : !x);
      for (const [ys, y] of vals) {
        expect(ev(`${xs} AND ${ys}`)).toBe(and(x, y));
        expect(ev(`${xs} OR ${ys}`)).toBe(or(x, y));
      }
    }
  });
});
