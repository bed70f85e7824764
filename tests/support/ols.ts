/**
 * Test-side least squares on rows (normal equations with an intercept, Gauss–Jordan), written independently of the
 * app's moment-based regression so it can check it.
 */
export function olsRows(cols: number[][], target: number[]) {
  const k = cols.length + 1
  const X = target.map((_, i) => [1, ...cols.map((c) => c[i])])
  const xtx = Array.from({ length: k }, (_, a) => Array.from({ length: k }, (_, b) => X.reduce((s, r) => s + r[a] * r[b], 0)))
  const aug = xtx.map((r, a) => [...r, ...Array.from({ length: k }, (_, b) => (a === b ? 1 : 0))])
  for (let c = 0; c < k; c++) {
    let piv = c
    for (let r = c + 1; r < k; r++) if (Math.abs(aug[r][c]) > Math.abs(aug[piv][c])) piv = r
    ;[aug[c], aug[piv]] = [aug[piv], aug[c]]
    const p = aug[c][c]
    aug[c] = aug[c].map((v) => v / p)
    for (let r = 0; r < k; r++) {
      if (r === c) continue
      const f = aug[r][c]
      aug[r] = aug[r].map((v, j) => v - f * aug[c][j])
    }
  }
  const inv = aug.map((r) => r.slice(k))
  const xty = Array.from({ length: k }, (_, a) => X.reduce((s, r, i) => s + r[a] * target[i], 0))
  const beta = inv.map((r) => r.reduce((s, v, j) => s + v * xty[j], 0))
  const fitted = X.map((r) => r.reduce((s, v, j) => s + v * beta[j], 0))
  const sse = fitted.reduce((s, f, i) => s + (target[i] - f) ** 2, 0)
  const ym = target.reduce((s, v) => s + v, 0) / target.length
  const sst = target.reduce((s, v) => s + (v - ym) ** 2, 0)
  const s2 = sse / (target.length - k)
  return { beta, se: inv.map((r, i) => Math.sqrt(s2 * r[i])), inv, s2, df: target.length - k, r2: 1 - sse / sst, predict: (x: number[]) => beta[0] + x.reduce((s, v, j) => s + v * beta[j + 1], 0) }
}
