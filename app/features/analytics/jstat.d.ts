/** The parts of jstat (no types of its own) the analytics area uses. */
declare module 'jstat' {
  interface Distribution {
    cdf(x: number, ...params: number[]): number
    pdf(x: number, ...params: number[]): number
    inv(p: number, ...params: number[]): number
  }
  const jStat: {
    gammaln(x: number): number
    studentt: Distribution
    normal: Distribution
    centralF: Distribution
  }
  export default jStat
}
