const ARIMA = require('arima')
let s=0; const ts=[]; for (let i=0;i<100;i++){ s+= Math.sin(i)*2; ts.push(s+i) }
for (const o of [{p:1,d:1,q:0},{p:0,d:1,q:0},{p:1,d:0,q:1},{auto:true},{auto:true,s:12}]) {
  const m = new ARIMA({...o, verbose:false}).train(ts)
  console.log(JSON.stringify(o), JSON.stringify(m.predict(4)))
}
