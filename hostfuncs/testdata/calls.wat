;; calls.wat: exports thin wrappers around sandbox imports so that tests can
;; call them with any pointer and length. Built with: wat2wasm calls.wat
(module
  (import "sandbox" "proc_name" (func $proc_name (param i32 i32 i32 i32) (result i32)))
  (import "sandbox" "proc_new" (func $proc_new (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "sandbox" "proc_info" (func $proc_info (param i32 i32) (result i32)))
  (import "sandbox" "proc_children" (func $proc_children (param i32 i32 i32) (result i32)))
  (import "sandbox" "proc_self" (func $proc_self (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "name") (param i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 call $proc_name)
  (func (export "new") (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4
    local.get 5 local.get 6 local.get 7 local.get 8 local.get 9 call $proc_new)
  (func (export "info") (param i32 i32) (result i32)
    local.get 0 local.get 1 call $proc_info)
  (func (export "children") (param i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 call $proc_children)
  (func (export "self") (param i32) (result i32)
    local.get 0 call $proc_self)
)
