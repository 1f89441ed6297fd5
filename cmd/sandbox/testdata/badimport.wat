;; badimport.wat: imports functions no sandbox provides. Built with: wat2wasm badimport.wat
(module
  (import "sandbox" "no_such_function" (func (param i32) (result i32)))
  (import "env" "foo" (func))
  (memory (export "memory") 1)
  (func (export "_start")))
