;; park.wat: the guest of runner.TestParkedGuest. Its first argument picks
;; what it does first: g grows its memory by 40 MiB, s sleeps 1 ms, c calls
;; sandbox.proc_self, x exits with code 7, anything else nothing. Then it
;; writes the wall clock (8 bytes, ns since 1970, little-endian) on stdout
;; and exits 0. A parked guest (runner/runner.go) must wait for its
;; assignment at every one of those first steps, and may run ahead of it
;; with none. Built with: wat2wasm park.wat
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args_sizes_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock_time_get (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll_oneoff (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "sandbox" "proc_self" (func $proc_self (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start")
    (local $mode i32)
    ;; argc at 0, the size of the strings at 4; argv at 16, strings at 256
    (drop (call $args_sizes_get (i32.const 0) (i32.const 4)))
    (if (i32.lt_u (i32.load (i32.const 0)) (i32.const 2)) (then (call $exit (i32.const 100))))
    (if (i32.gt_u (i32.load (i32.const 4)) (i32.const 1024)) (then (call $exit (i32.const 101))))
    (drop (call $args_get (i32.const 16) (i32.const 256)))
    (local.set $mode (i32.load8_u (i32.load (i32.const 20))))
    (if (i32.eq (local.get $mode) (i32.const 0x67)) ;; g
      (then (drop (memory.grow (i32.const 640)))))
    (if (i32.eq (local.get $mode) (i32.const 0x73)) ;; s
      (then
        ;; one clock subscription at 2048 (48 bytes): realtime, 1 ms, relative
        (i64.store (i32.const 2048) (i64.const 0))      ;; userdata
        (i32.store8 (i32.const 2056) (i32.const 0))     ;; tag: clock
        (i32.store (i32.const 2064) (i32.const 0))      ;; clock id: realtime
        (i64.store (i32.const 2072) (i64.const 1000000)) ;; timeout, ns
        (i64.store (i32.const 2080) (i64.const 0))      ;; precision
        (i32.store16 (i32.const 2088) (i32.const 0))    ;; flags: relative
        (drop (call $poll_oneoff (i32.const 2048) (i32.const 2112) (i32.const 1) (i32.const 2160)))))
    (if (i32.eq (local.get $mode) (i32.const 0x63)) ;; c
      (then (drop (call $proc_self (i32.const 8)))))
    (if (i32.eq (local.get $mode) (i32.const 0x78)) ;; x
      (then (call $exit (i32.const 7))))
    ;; the wall clock at 3072, an iovec at 3088, written count at 3096
    (drop (call $clock_time_get (i32.const 0) (i64.const 1) (i32.const 3072)))
    (i32.store (i32.const 3088) (i32.const 3072))
    (i32.store (i32.const 3092) (i32.const 8))
    (drop (call $fd_write (i32.const 1) (i32.const 3088) (i32.const 1) (i32.const 3096)))
    (call $exit (i32.const 0))))
