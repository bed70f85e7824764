const ARIMA = require('arima')
let seed = 1; const rnd = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
const gauss = () => Math.sqrt(-2*Math.log(rnd()))*Math.cos(2*Math.PI*rnd())
for (const n of [50, 120, 200, 300]) {
let s = 0; const ts = []
for (let i = 0; i < n; i++) { s += 2*gauss(); ts.push(s) }
const m = new ARIMA({ p: 0, d: 1, q: 0, verbose: false }).train(ts)
console.log(n, ts.slice(-3), m.predict(4))
const m2 = new ARIMA({ p: 0, d: 1, q: 0, verbose: false }).train(ts)
console.log(n, 'again', m2.predict(4))
}
