const ARIMA = require('arima')
let seed = 7; const rnd = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
const gauss = () => Math.sqrt(-2*Math.log(rnd()))*Math.cos(2*Math.PI*rnd())
let x=0; const ts=[]; for (let i=0;i<3000;i++){ x = 0.5*x + 3*gauss(); ts.push(x+10) }
const m = new ARIMA({p:1,d:0,q:0, verbose:false}).train(ts)
console.log(JSON.stringify(m.predict(4)), 'sigma2=9: var', [9, 9*1.25, 9*1.3125, 9*1.328], 'sd', [3, 3.354, 3.437, 3.457])
