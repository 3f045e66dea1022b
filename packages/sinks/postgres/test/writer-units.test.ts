import { PcapflowError } from '@pcapflow/core';
import { loadPg, resolvePglite, pgSslConfig } from '../src/writer/backend';
import { classifyError } from '../src/writer/errors';
import {
  BinaryCopyBuilder, binaryCodecOf, copyEscape, encodeValue, epochMsText, fitsBinary, inferType, kindOfType, mergeTypes, quoteIdent, ValueError,
} from '../src/writer/sql';
import { PostgresWriter } from '../src/writer';

describe('sql helpers', () => {
  it('writes binary COPY only for the types and JS values whose binary form is their text form', () => {
    expect(['bigint', 'integer', 'smallint', 'double precision', 'boolean', 'text', 'character varying(3)', 'timestamp with time zone', 'text[]'].map(binaryCodecOf))
      .toEqual(['int8', 'int4', 'int2', 'float8', 'bool', 'text', 'text', 'timestamptz', 'text[]']);
    for (const t of ['numeric', 'real', 'jsonb', 'uuid', 'character(3)', 'timestamp without time zone', 'timestamp(3) with time zone', 'bigint[]', 'character varying[]']) {
      expect([t, binaryCodecOf(t)]).toEqual([t, undefined]);
    }
    const fits = (v: unknown, t: string) => fitsBinary(v, binaryCodecOf(t)!);
    const TSTZ = 'timestamp with time zone';
    expect([fits(2 ** 53 - 1, 'bigint'), fits(2 ** 53, 'bigint'), fits(1.5, 'bigint'), fits('1', 'bigint'), fits(2n ** 63n, 'bigint'), fits(-(2n ** 63n), 'bigint')]).toEqual([true, false, false, false, false, true]);
    expect([fits(2 ** 31, 'integer'), fits(-(2 ** 31), 'integer'), fits(32768, 'smallint'), fits(5n, 'integer')]).toEqual([false, true, false, false]);
    expect([fits(Number.NaN, 'double precision'), fits(1n, 'double precision'), fits('1', 'boolean'), fits(true, 'boolean')]).toEqual([true, false, false, true]);
    expect([fits('a\u0000b', 'text'), fits(5, 'text'), fits(['a', null, undefined], 'text[]'), fits([['a']], 'text[]'), fits(['a\u0000'], 'text[]'), fits('{a}', 'text[]')])
      .toEqual([false, false, true, false, false, false]);
    expect([fits(-1, TSTZ), fits(253_402_300_800_000, TSTZ), fits('2024-01-01', TSTZ), fits(new Date(Number.NaN), TSTZ), fits(new Date(0), TSTZ)])
      .toEqual([false, false, false, false, true]);
  });

  it('lays out binary COPY data as PostgreSQL reads it', () => {
    const b = new BinaryCopyBuilder(8); // grows as needed
    b.row([-2, null, 946_684_800_001.9, ['é', null], true, 1.5], ['int8', 'text', 'timestamptz', 'text[]', 'bool', 'float8']);
    const hex = b.finish().toString('hex');
    expect(hex).toBe([
      Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1').toString('hex'), '00000000', '00000000', // signature, flags, header extension
      '0006', // fields
      '00000008', 'fffffffffffffffe', // -2
      'ffffffff', // NULL
      '00000008', '00000000000003e8', // 1 ms after 2000-01-01 in µs (the fraction cut off)
      '0000001e', '00000001', '00000001', '00000019', '00000002', '00000001', '00000002', 'c3a9', 'ffffffff', // {é,NULL}
      '00000001', '01',
      '00000008', '3ff8000000000000',
      'ffff', // trailer
    ].join(''));
  });

  it('quotes identifiers', () => {
    expect(quoteIdent('plain')).toBe('"plain"');
    expect(quoteIdent('say "hi"')).toBe('"say ""hi"""');
    expect(quoteIdent('Robert"); DROP TABLE x; --')).toBe('"Robert""); DROP TABLE x; --"');
    expect(() => quoteIdent('a\u0000b')).toThrow('contains a NUL character');
    expect(() => quoteIdent('é'.repeat(32))).toThrow('longer than 63 bytes'); // 64 bytes in UTF-8
  });

  it('formats epoch milliseconds exactly as Date#toISOString (cached date part, any day, edges, fallbacks)', () => {
    const fixed = [0, 1, 999, 59_999, 86_399_999, 86_400_000, 951_782_400_000, 1_700_000_000_000, 253_402_300_799_999];
    // a deterministic spread over 1970..9999, visiting days in an order that defeats the cache
    const spread = Array.from({ length: 5000 }, (_, i) => ((i * 2_654_435_761) % 253_402_300_800) * 1000 + (i % 1000));
    // capture timestamps carry microseconds: the fraction of a millisecond is cut off, as Date does
    const fractions = Array.from({ length: 1000 }, (_, i) => 1_700_000_000_000 + i * 37.001 + 0.999);
    for (const ms of [...fixed, ...spread, ...fractions, 0.5, 86_399_999.9999]) expect([ms, epochMsText(ms)]).toEqual([ms, new Date(ms).toISOString()]);
    // outside the fast range: what Date does (six-digit years, before 1970, fractions truncated)
    for (const ms of [253_402_300_800_000, -1, -62_198_755_200_000, 1.7, 8.64e15]) expect(epochMsText(ms)).toBe(new Date(ms).toISOString());
    expect(() => epochMsText(8.64e15 + 1)).toThrow(ValueError);
    expect(() => epochMsText(Number.NaN)).toThrow(ValueError);
    expect(encodeValue(1_700_000_000_123n, kindOfType('timestamptz'))).toBe('2023-11-14T22:13:20.123Z');
  });

  it('infers column types', () => {
    expect(inferType(42, false)).toBe('bigint');
    expect(inferType(2 ** 53, false)).toBe('double precision');
    expect(inferType(-0.5, false)).toBe('double precision');
    expect(inferType(10n, false)).toBe('bigint');
    expect(inferType(true, false)).toBe('boolean');
    expect(inferType('x', false)).toBe('text');
    expect(inferType('2024-01-01', true)).toBe('timestamptz');
    expect(inferType(1700000000000, true)).toBe('timestamptz');
    expect(inferType(new Date(0), false)).toBe('timestamptz');
    expect(inferType(['a', null], false)).toBe('text[]');
    expect(inferType([1, 2], false)).toBe('bigint[]');
    expect(inferType([1, 2.5], false)).toBe('double precision[]');
    expect(inferType([true], false)).toBe('boolean[]');
    expect(inferType([1, 'a'], false)).toBe('jsonb');
    expect(inferType([[1]], false)).toBe('jsonb');
    expect(inferType({ a: 1 }, false)).toBe('jsonb');
    expect(inferType(Buffer.from('x'), false)).toBe('bytea');
    expect(inferType([], false)).toBeUndefined();
    expect(inferType(null, false)).toBeUndefined();
    expect(mergeTypes('bigint', 'double precision')).toBe('double precision');
    expect(mergeTypes('bigint[]', 'double precision[]')).toBe('double precision[]');
    expect(mergeTypes('bigint', 'text')).toBe('bigint');
    expect(mergeTypes(undefined, 'text')).toBe('text');
  });

  it('encodes values as PostgreSQL text', () => {
    const k = kindOfType;
    expect(encodeValue(1700000000000, k('timestamp with time zone'))).toBe('2023-11-14T22:13:20.000Z');
    expect(encodeValue('2024-01-01T00:00:00+01:00', k('timestamptz'))).toBe('2024-01-01T00:00:00+01:00');
    expect(encodeValue(['a"b', 'c\\d', null, 'e,f'], k('text[]'))).toBe('{"a\\"b","c\\\\d",NULL,"e,f"}');
    expect(encodeValue([1, 2], k('bigint[]'))).toBe('{"1","2"}');
    expect(encodeValue([1, 'a'], k('jsonb'))).toBe('[1,"a"]');
    expect(encodeValue('text', k('jsonb'))).toBe('"text"');
    expect(encodeValue({ n: 5n }, k('jsonb'))).toBe('{"n":"5"}');
    expect(encodeValue(true, k('boolean'))).toBe('true');
    expect(encodeValue(Buffer.from([0, 255]), k('bytea'))).toBe('\\x00ff');
    expect(encodeValue(null, k('text'))).toBeNull();
    expect(() => encodeValue(Number.MAX_VALUE, k('timestamptz'))).toThrow(ValueError);
    expect(() => encodeValue('a\u0000b', k('text'))).toThrow('NUL');
    expect(copyEscape('a\tb\nc\\d\re')).toBe('a\\tb\\nc\\\\d\\re');
    expect(copyEscape(null)).toBe('\\N');
  });

  it('classifies errors', () => {
    const err = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    expect(classifyError(err('ECONNREFUSED'))).toBe('connection');
    expect(classifyError(err('57P01'))).toBe('connection');
    expect(classifyError(err('08006'))).toBe('connection');
    expect(classifyError(err('53300'))).toBe('connection');
    expect(classifyError(new Error('Connection terminated unexpectedly'))).toBe('connection');
    expect(classifyError(err('22P02'))).toBe('data');
    expect(classifyError(err('23505'))).toBe('data');
    expect(classifyError(err('42804'))).toBe('data');
    expect(classifyError(err('42P01'))).toBe('schema');
    expect(classifyError(err('42601'))).toBe('fatal');
    expect(classifyError(err('28P01'))).toBe('fatal');
  });

  it('maps sslmode to node-postgres options', () => {
    expect(pgSslConfig(undefined)).toBe(false);
    expect(pgSslConfig({ mode: 'disable' })).toBe(false);
    expect(pgSslConfig({ mode: 'require' })).toMatchObject({ rejectUnauthorized: false });
    const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const vca = pgSslConfig({ mode: 'verify-ca', ca }) as { rejectUnauthorized: boolean; ca: string; checkServerIdentity: () => unknown };
    expect(vca.rejectUnauthorized).toBe(true);
    expect(vca.ca).toBe(ca);
    expect(vca.checkServerIdentity()).toBeUndefined();
    expect(pgSslConfig({ mode: 'verify-full', ca })).toEqual({ ca, cert: undefined, key: undefined, servername: undefined, rejectUnauthorized: true });
  });
});

describe('missing drivers', () => {
  const notFound = (id: string) => {
    throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
  };
  it('pg missing is a typed error telling what to install', () => {
    let err: unknown;
    try {
      loadPg(notFound);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PcapflowError);
    expect((err as PcapflowError).code).toBe('PCAPFLOW_DEPENDENCY_MISSING');
    expect((err as PcapflowError).hint).toBe('npm install pg');
  });
  it('PGlite missing is a typed error telling what to install', () => {
    let err: unknown;
    try {
      resolvePglite(notFound);
    } catch (e) {
      err = e;
    }
    expect((err as PcapflowError).code).toBe('PCAPFLOW_DEPENDENCY_MISSING');
    expect((err as PcapflowError).hint).toBe('npm install @electric-sql/pglite');
  });
});

describe('config checks', () => {
  it('upsert needs a key; column types must be type syntax', () => {
    expect(() => new PostgresWriter({ table: { table: 't', mode: 'upsert', createTable: true, evolve: true } })).toThrow('mode "upsert" needs key columns');
    expect(
      () => new PostgresWriter({ table: { table: 't', mode: 'insert', createTable: true, evolve: true, columns: { a: 'text); DROP TABLE t; --' } } }),
    ).toThrow('invalid column type');
  });
});
