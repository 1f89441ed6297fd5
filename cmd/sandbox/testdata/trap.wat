;; trap.wat: a WASI command that traps at once. Built with: wat2wasm trap.wat
(module
  (memory (export "memory") 1)
  (func (export "_start") unreachable))
