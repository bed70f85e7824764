import { describe, expect, it } from 'vitest'
import type { ColumnSpec } from '#app/features/templates/template-schema.ts'
import { encodeCsv, type ChunkLayout } from './file-encoder.server.ts'
import { copyField, planFile, RowProcessor, TypeInferer } from './row-validation.server.ts'

const cols: ColumnSpec[] = [
  { column_name: 'id', data_type: 'Integer', default_value: null },
  { column_name: 'usage', data_type: 'Float', default_value: '0.0' },
  { column_name: 'active', data_type: 'Boolean', default_value: null },
]

describe('planFile', () => {
  it('matches columns in any order, case-insensitively', () => {
    const p = planFile(['Active', 'ID', 'usage'], cols)
    expect(p.source).toEqual([1, 2, 0])
    expect(p.headerOk).toBe(true)
  })
  it('reports missing, defaulted, renamed and extra columns', () => {
    const p = planFile(['id', 'use', 'extra'], cols)
    expect(p.issues.map((i) => [i.rule, i.column, i.value])).toEqual([
      ['renamed_column', 'usage', 'use'],
      ['renamed_column', 'active', 'extra'],
    ])
    expect(p.fatal).toBe(true)
    expect(planFile(['id', 'usage'], cols).issues.map((i) => [i.rule, i.column])).toEqual([['missing_column', 'active']])
    expect(planFile(['id', 'usage', 'active', 'x'], cols).issues.map((i) => [i.rule, i.column])).toEqual([['extra_column', 'x']])
    const q = planFile(['id', 'active'], cols)
    expect(q.issues.map((i) => i.rule)).toEqual(['missing_column_defaulted'])
    expect(q.fatal).toBe(false)
  })
})

/** Decodes binary COPY rows (no header/trailer) by the silver column types: an independent reading of the format. */
function decodeSilver(buf: Buffer, types: string[]): unknown[][] {
  const rows: unknown[][] = []
  let p = 0
  while (p < buf.length) {
    const n = buf.readInt16BE(p)
    p += 2
    const row: unknown[] = []
    for (let i = 0; i < n; i++) {
      const len = buf.readInt32BE(p)
      p += 4
      if (len < 0) {
        row.push(null)
        continue
      }
      const v = buf.subarray(p, p + len)
      p += len
      switch (types[i]) {
        case 'Integer':
          row.push(Number(v.readBigInt64BE(0)))
          break
        case 'Float':
          row.push(v.readDoubleBE(0))
          break
        case 'Boolean':
          row.push(v[0] === 1)
          break
        case 'Date':
          row.push(new Date(Date.UTC(2000, 0, 1) + v.readInt32BE(0) * 86_400_000).toISOString().slice(0, 10))
          break
        case 'DateTime':
          row.push(new Date(Date.UTC(2000, 0, 1) + Number(v.readBigInt64BE(0) / 1000n)).toISOString())
          break
        default:
          row.push(v.toString('utf8'))
      }
    }
    rows.push(row)
  }
  return rows
}

/** Runs the file encoder over `text`; returns bronze CSV text, decoded silver rows, error lines and counts. */
async function encode(text: string, columns: ColumnSpec[] = cols, fileId = 7) {
  async function* src() {
    yield Buffer.from(text)
  }
  const it = encodeCsv(src(), { columns, fileId, tenantId: 'T', flushBytes: 1 << 20 })
  const parts = { bronze: [] as Buffer[], silver: [] as Buffer[], errors: [] as Buffer[] }
  let layout: ChunkLayout | undefined
  for (;;) {
    const n = await it.next()
    if (n.done) {
      const proc = new RowProcessor(planFile(n.value.header, columns), fileId)
      proc.restore(n.value.counts)
      return {
        layout,
        bronze: Buffer.concat(parts.bronze).toString(),
        silver: decodeSilver(Buffer.concat(parts.silver), ['Integer', 'Integer', ...columns.map((c) => c.data_type)]),
        errors: Buffer.concat(parts.errors).toString(),
        proc,
      }
    }
    layout ??= n.value.layout
    for (const k of ['bronze', 'silver', 'errors'] as const) if (n.value[k]) parts[k].push(Buffer.from(n.value[k]!))
  }
}

describe('RowProcessor', () => {
  it('types valid rows, applies defaults, reports each broken cell', async () => {
    const out = await encode('id,usage,active\n1,2.5,yes\nx,,no\n3,abc,maybe\n4,,\n')
    expect(out.silver).toEqual([
      [7, 1, 1, 2.5, true],
      [7, 4, 4, 0, null],
    ])
    expect(out.bronze.split('\n')[1]).toBe('7,2,f,x,,no')
    expect(out.errors.trim().split('\n').map((l) => l.split('\t').slice(2, 6))).toEqual([
      ['2', 'id', 'x', 'invalid_integer'],
      ['3', 'usage', 'abc', 'invalid_float'],
      ['3', 'active', 'maybe', 'invalid_boolean'],
    ])
    const p = out.proc
    expect([p.total, p.valid, p.errorCount]).toEqual([4, 2, 3])
    expect(p.summary()).toMatchObject({ invalid_rows: 2, error_count: 3, by_rule: { invalid_integer: 1, invalid_float: 1, invalid_boolean: 1 } })
  })
  it('keeps bronze in the file order of its columns; a missing column is left out (NULL), its default goes to silver', async () => {
    const out = await encode('active,id\nt,1\n')
    expect(out.layout).toMatchObject({ names: ['active', 'id'], verbatim: true, delimiter: ',' })
    expect(out.bronze).toBe('7,1,t,t,1\n')
    expect(out.silver).toEqual([[7, 1, 1, 0, true]])
  })
  it('loads only the template columns of a file with extra ones, quoting bronze fields that need it', async () => {
    const text = 'id;note;active;usage\n1;"a;b ""q""";t;1.5\n2;plain;f;\n'
    const out = await encode(text)
    expect(out.layout).toMatchObject({ names: ['id', 'usage', 'active'], verbatim: false, delimiter: ';' })
    expect(out.bronze).toBe('7;1;t;1;1.5;t\n7;2;t;2;;f\n')
    const strings = await encode('id,s\n1,"x,y"\n2,"line\nbreak"\n3,"say ""hi"""\n', [cols[0], { column_name: 's', data_type: 'String', default_value: null }])
    expect(strings.bronze).toBe('7,1,t,1,"x,y"\n7,2,t,2,"line\nbreak"\n7,3,t,3,"say ""hi"""\n')
    expect(strings.silver.map((r) => r[3])).toEqual(['x,y', 'line\nbreak', 'say "hi"'])
  })
  it('has a null report for a clean file', async () => {
    expect((await encode('id,usage,active\n1,1,true\n')).proc.summary()).toBeNull()
  })
  it('escapes COPY text', () => {
    expect(copyField('a\tb\\c\nd')).toBe('a\\tb\\\\c\\nd')
    expect(copyField(null)).toBe('\\N')
  })
})

describe('TypeInferer', () => {
  it('picks the narrowest type that fits every non-empty value', () => {
    const t = new TypeInferer(['a', 'b', 'c', 'd', 'e', 'f', 'g'])
    t.observe([
      ['1', '1.5', 'true', '2025-01-01', '2025-01-01T10:00:00Z', 'x', ''],
      ['2', '2', 'no', '2025-01-02', '2025-01-01 11:00', '1', ''],
      ['', '', '', '', '', '', ''],
    ])
    expect(t.types()).toEqual(['Integer', 'Float', 'Boolean', 'Date', 'DateTime', 'String', 'String'])
  })
})
