;; badptr.wat: passes out-of-range pointers to the sandbox and exits with
;; the sum of the errnos it got back (each must be EFAULT = 1, so 4), having
;; first checked that a good call still works. Built with: wat2wasm badptr.wat
(module
  (import "sandbox" "proc_self" (func $proc_self (param i32) (result i32)))
  (import "sandbox" "proc_name" (func $proc_name (param i32 i32 i32 i32) (result i32)))
  (import "sandbox" "proc_set_name" (func $proc_set_name (param i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $sum i32)
    ;; a good call first: proc_self(0) must succeed
    (if (i32.ne (call $proc_self (i32.const 0)) (i32.const 0)) (then (call $exit (i32.const 100))))
    ;; out-pointer past the end of memory
    (local.set $sum (call $proc_self (i32.const 65534)))
    ;; buffer that wraps around 4 GiB
    (local.set $sum (i32.add (local.get $sum)
      (call $proc_name (i32.const 1) (i32.const 0xfffffff0) (i32.const 64) (i32.const 0))))
    ;; size pointer out of range
    (local.set $sum (i32.add (local.get $sum)
      (call $proc_name (i32.const 1) (i32.const 0) (i32.const 64) (i32.const 0x7fffffff))))
    ;; input string out of range
    (local.set $sum (i32.add (local.get $sum)
      (call $proc_set_name (i32.const 1) (i32.const 65000) (i32.const 1000))))
    (call $exit (local.get $sum))))
