import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

/*
  XGBoost in WebAssembly (the ml-xgboost package's build of XGBoost 0.7x), driven through its exported C functions
  instead of the package's JavaScript class, because of three measured traps (FINDINGS.md):
  - its `train(X, y)` copies the matrix onto the 5 MiB emscripten stack and crashes above ~5 MiB: here the matrix is
    written straight into the module's heap (`_malloc` + HEAPF32) and handed over as a pointer;
  - its matrix constructor reads the value -1 as *missing* (and aborts on NaN): `writeMatrix` turns NaN into -1 and
    refuses a real -1 (the preprocessing never emits one, see preprocess.ts);
  - its defaults are `subsample` 0.5 and `reg:linear`: every parameter is set explicitly by the caller.
  Each training gets a fresh instance: an abort inside XGBoost leaves its instance unusable, and a WebAssembly memory
  never shrinks, so dropping the instance is the only way to give a large training's heap back.
*/

/** The value the trainer reads as missing. */
export const WASM_MISSING = -1

interface EmscriptenModule {
  HEAPF32: Float32Array
  HEAPU8: Uint8Array
  _malloc(bytes: number): number
  _free(ptr: number): void
  _create_model(data: number, labels: number, rows: number, cols: number): number
  _set_param(model: number, key: number, value: number): void
  _train_full_model(model: number, iterations: number): void
  _predict_one(model: number, row: number, cols: number, out: number): number
  _save_model(model: number): number
  _get_file_content(out: number, size: number): void
  _load_model(bytes: number, size: number): number
  _free_memory_model(model: number): void
  isReady: Promise<EmscriptenModule>
}

type Factory = (overrides: Record<string, unknown>) => EmscriptenModule

let compiled: { factory: Factory; wasm: WebAssembly.Module } | undefined

function packageDir() {
  const require = createRequire(import.meta.url)
  return path.join(path.dirname(require.resolve('ml-xgboost/package.json')), 'dist/wasm')
}

/** The glue script as a function of its Module overrides (compiled once per thread; the wasm module too). */
function compile() {
  if (compiled) return compiled
  const dir = packageDir()
  let source = fs.readFileSync(path.join(dir, 'xgboost.js'), 'utf8')
  const head = 'var Module=module.exports={};'
  if (!source.includes(head)) throw new Error('ml-xgboost: unexpected glue script (its Module line changed)')
  // Our overrides become the Module; the glue's own process-wide uncaughtException hook is not installed per instance.
  source = source.replace(head, 'var Module=module.exports=__overrides;').replace('process["on"]("uncaughtException",', '(function(){})(')
  const fn = new Function('module', 'exports', 'require', '__dirname', '__overrides', source) as (...args: unknown[]) => void
  const require = createRequire(path.join(dir, 'xgboost.js'))
  const factory: Factory = (overrides) => {
    const module = { exports: {} as EmscriptenModule }
    fn(module, module.exports, require, dir, overrides)
    return module.exports
  }
  const wasm = new WebAssembly.Module(fs.readFileSync(path.join(dir, 'xgboost.wasm')))
  compiled = { factory, wasm }
  return compiled
}

/** One instance of the XGBoost module: its own heap and file system. Messages it prints are kept in `log`. */
export class XGBoostRuntime {
  readonly log: string[] = []
  private constructor(readonly mod: EmscriptenModule) {}

  static async create(): Promise<XGBoostRuntime> {
    const { factory, wasm } = compile()
    const log: string[] = []
    const mod = factory({
      // 64 MiB to start: fewer heap doublings (each one copies the heap) for ordinary trainings.
      TOTAL_MEMORY: 64 * 1024 * 1024,
      print: (s: string) => log.push(String(s)),
      printErr: (s: string) => log.push(String(s)),
      instantiateWasm(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance) => void) {
        void WebAssembly.instantiate(wasm, imports).then(receive)
        return {}
      },
    })
    await mod.isReady
    const rt = new XGBoostRuntime(mod)
    rt.log.push(...log)
    log.length = 0
    // Later prints go straight to the instance's log.
    ;(mod as unknown as { print: (s: string) => void }).print = (s) => rt.log.push(String(s))
    return rt
  }

  malloc(bytes: number) {
    const ptr = this.mod._malloc(bytes)
    if (!ptr) throw new Error(`XGBoost: out of memory allocating ${bytes} bytes`)
    return ptr
  }

  free(ptr: number) {
    this.mod._free(ptr)
  }

  /** A view of `count` float32s at ptr. Take it after the last malloc: a heap that grows replaces HEAPF32. */
  f32(ptr: number, count: number) {
    return this.mod.HEAPF32.subarray(ptr >> 2, (ptr >> 2) + count)
  }

  private cString(s: string) {
    const bytes = Buffer.from(s + '\0', 'utf8')
    const ptr = this.malloc(bytes.length)
    this.mod.HEAPU8.set(bytes, ptr)
    return ptr
  }

  /**
   * Allocates a rows × cols float32 matrix in the heap and lets `fill` write it (row-major, NaN = missing).
   * NaN becomes the trainer's missing value; a real -1 is refused (it would silently read as missing).
   */
  writeMatrix(rows: number, cols: number, fill: (view: Float32Array) => void): number {
    const ptr = this.malloc(Math.max(4, rows * cols * 4))
    const view = this.f32(ptr, rows * cols)
    fill(view)
    for (let i = 0; i < view.length; i++) {
      const v = view[i]
      if (v !== v) view[i] = WASM_MISSING
      else if (v === WASM_MISSING) {
        this.free(ptr)
        throw new Error(`XGBoost input: a real -1 at row ${Math.floor(i / cols)}, column ${i % cols} would read as missing`)
      }
    }
    return ptr
  }

  createBooster(matrix: number, labels: Float32Array, rows: number, cols: number, params: Record<string, string | number>): WasmBooster {
    const lp = this.malloc(Math.max(4, labels.length * 4))
    this.f32(lp, labels.length).set(labels)
    const handle = this.mod._create_model(matrix, lp, rows, cols)
    this.free(lp)
    if (!handle) throw new Error('XGBoost: could not create the training matrix')
    const booster = new WasmBooster(this, handle, cols)
    for (const [k, v] of Object.entries(params)) booster.setParam(k, String(v))
    return booster
  }

  /** @internal */
  setParam(handle: number, key: string, value: string) {
    const k = this.cString(key)
    const v = this.cString(value)
    try {
      this.mod._set_param(handle, k, v)
    } finally {
      this.free(k)
      this.free(v)
    }
  }

  /** @internal */
  boost(handle: number, rounds: number) {
    this.mod._train_full_model(handle, rounds)
  }

  /** @internal */
  save(handle: number): Uint8Array {
    const size = this.mod._save_model(handle)
    if (size <= 0) throw new Error('XGBoost: could not save the model')
    const ptr = this.malloc(size)
    try {
      this.mod._get_file_content(ptr, size)
      return this.mod.HEAPU8.slice(ptr, ptr + size)
    } finally {
      this.free(ptr)
    }
  }

  /** @internal */
  predictOne(handle: number, row: ArrayLike<number>, cols: number, outputs: number): Float32Array {
    const rp = this.malloc(cols * 4)
    const op = this.malloc(Math.max(1, outputs) * 4 * 4)
    try {
      const view = this.f32(rp, cols)
      for (let j = 0; j < cols; j++) view[j] = row[j] !== row[j] ? WASM_MISSING : row[j]
      const n = this.mod._predict_one(handle, rp, cols, op)
      return this.f32(op, n).slice()
    } finally {
      this.free(rp)
      this.free(op)
    }
  }

  /** Loads a model saved by `save` (the legacy binary format) for prediction. */
  loadModel(bytes: Uint8Array, cols: number): WasmBooster {
    const ptr = this.malloc(bytes.length)
    this.mod.HEAPU8.set(bytes, ptr)
    const handle = this.mod._load_model(ptr, bytes.length)
    this.free(ptr)
    if (!handle) throw new Error('XGBoost: could not load the model')
    return new WasmBooster(this, handle, cols)
  }

  /** @internal */
  release(handle: number) {
    this.mod._free_memory_model(handle)
  }
}

/** A booster inside one runtime. `free()` it (its memory is not garbage collected). */
export class WasmBooster {
  private freed = false
  constructor(
    private rt: XGBoostRuntime,
    private handle: number,
    readonly cols: number,
  ) {}

  setParam(key: string, value: string) {
    this.rt.setParam(this.handle, key, value)
  }

  /** Adds `rounds` boosting rounds to the model (each call continues where the last stopped). */
  boost(rounds = 1) {
    this.rt.boost(this.handle, rounds)
  }

  /** The model in XGBoost's legacy binary format (what `xgboost.Booster().load_model()` reads). */
  save() {
    return this.rt.save(this.handle)
  }

  /** The model's output for one row (probabilities for classification); NaN = missing. Slow: for checks. */
  predictOne(row: ArrayLike<number>, outputs = 1) {
    return this.rt.predictOne(this.handle, row, this.cols, outputs)
  }

  free() {
    if (this.freed) return
    this.freed = true
    this.rt.release(this.handle)
  }
}
