;; nostart.wat: a module with memory but no _start. Built with: wat2wasm nostart.wat
(module
  (memory (export "memory") 1)
  (func (export "main")))
