"""The CPython side of the benchmark (bench/main.go): the same shapes as
the sandbox's bench guest (internal/testguests/bench), with
multiprocessing's fork or spawn start method, timed inside the program with
time.perf_counter_ns (interpreter start-up not counted).

usage: python3 bench.py SHAPE N METHOD [SIZE]

It prints one line, "ns_per_op=INTEGER" followed by the shape's extra
key=value pairs, or, on any failure, a message on stderr and no number
(exit status 1; 2 for a usage error). The shapes:

  spawn N       start+join of a process with an empty target, N times one
                after another; per op = one start+join
  first N       wall clock (time.time_ns) from just before start() to the
                first instruction of the child's target, N times; per op =
                the mean
  spawn8 N      8 processes started then the 8 joined, N times; per op =
                one batch of 8
  pingpong N    64-byte round trips over a duplex Pipe; per op = one round
                trip
  pipe N SIZE   N messages of SIZE bytes through Pipe(duplex=False)
                (send_bytes/recv_bytes); per op = one message; mib_per_s=
  queue N SIZE  N bytes objects of SIZE bytes through a Queue; per op = one
                message; mib_per_s=
  barrier N     a Barrier(4) of the parent and 3 children, each waiting N
                times; per op = one generation
  lock N        4 children released by an Event, each acquiring and
                releasing one Lock N times; per op = one acquire+release
  pool N        Pool(4) created, map(square, range(100)), closed and
                joined, N times; per op = one pool
  alive N       N children started, all alive at once waiting on one
                Event, held alive ALIVE_HOLD once all run (the harness
                samples their memory); per op = start time per process;
                alive=N, self_rss_kib= and child_rss_kib= (ru_maxrss after
                the joins)
  hello N       prints "ready" first (start-up measured from outside), then
                ns_per_op=0; N is ignored

Where a shape needs its children up before its clock starts (pipe, queue,
lock), each child releases a Semaphore when it is running, and the parent
acquires it before it takes the time, as the guest does. The parent closes
its copy of the child's pipe end (pingpong, pipe), and polls while it waits
for a child to signal (first, alive and the ready Semaphore), so that a
child that dies makes the run fail instead of hang.
"""

import multiprocessing as mp  # first: the hello shape times start-up to "ready"

import os
import queue as queue_module
import resource
import sys
import time


class Failure(Exception):
    pass


def noop():
    pass


def first_child(q):
    now = time.time_ns()
    q.put(now)


def alive_child(ready, go):
    ready.release()
    go.wait()


def echo(conn, n):
    for _ in range(n):
        conn.send_bytes(conn.recv_bytes())


def pipe_sink(r, n, size, ready):
    ready.release()
    for i in range(n):
        b = r.recv_bytes()
        if len(b) != size:
            raise Failure("message %d has %d bytes, not %d" % (i, len(b), size))


def queue_sink(q, n, size, ready):
    ready.release()
    for i in range(n):
        b = q.get()
        if len(b) != size:
            raise Failure("message %d has %d bytes, not %d" % (i, len(b), size))


def barrier_child(b, n):
    for _ in range(n):
        b.wait()


def lock_child(lock, start, n, ready):
    ready.release()
    start.wait()
    for _ in range(n):
        lock.acquire()
        lock.release()


def square(x):
    return x * x


def alive_or_fail(procs):
    """Fails if one of procs, all started, has already ended: a child that
    failed before it signalled must not leave the parent waiting for ever
    (the sandbox's deadlock detector does this for the guest)."""
    for p in procs:
        if p.exitcode is not None:
            raise Failure("%s ended with exit code %r" % (p.name, p.exitcode))


def wait_ready(ready, k, procs):
    """Acquires ready k times: each of procs releases it once it runs."""
    for _ in range(k):
        while not ready.acquire(timeout=0.5):
            alive_or_fail(procs)


def check_exits(procs):
    """Fails unless every one of procs, all joined, exited with 0."""
    for p in procs:
        if p.exitcode != 0:
            raise Failure("%s ended with exit code %r" % (p.name, p.exitcode))


def spawn(n, _):
    procs = []
    t = time.perf_counter_ns()
    for _ in range(n):
        p = mp.Process(target=noop)
        p.start()
        p.join()
        procs.append(p)
    per = (time.perf_counter_ns() - t) // n
    check_exits(procs)
    return per, ""


def first(n, _):
    q = mp.Queue()
    total = 0
    procs = []
    for _ in range(n):
        p = mp.Process(target=first_child, args=(q,))
        before = time.time_ns()
        p.start()
        while True:
            try:
                child_now = q.get(timeout=0.5)
                break
            except queue_module.Empty:
                alive_or_fail([p])
        p.join()
        total += child_now - before
        procs.append(p)
    check_exits(procs)
    return total // n, ""


def spawn8(n, _):
    procs = []
    t = time.perf_counter_ns()
    for _ in range(n):
        batch = [mp.Process(target=noop) for _ in range(8)]
        for p in batch:
            p.start()
        for p in batch:
            p.join()
        procs += batch
    per = (time.perf_counter_ns() - t) // n
    check_exits(procs)
    return per, ""


# How long the alive shape keeps all its children alive once they run, so
# that the harness (bench/memory.go) samples their memory: the same in the
# guest.
ALIVE_HOLD = 1.0


def alive(n, _):
    ready = mp.Semaphore(0)
    go = mp.Event()
    procs = []
    t = time.perf_counter_ns()
    for _ in range(n):
        p = mp.Process(target=alive_child, args=(ready, go))
        p.start()
        procs.append(p)
    per = (time.perf_counter_ns() - t) // n
    wait_ready(ready, n, procs)
    time.sleep(ALIVE_HOLD)  # all alive: the harness samples their memory
    go.set()
    for p in procs:
        p.join()
    check_exits(procs)
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return per, " alive=%d self_rss_kib=%d child_rss_kib=%d" % (n, self_rss, child_rss)


def pingpong(n, _):
    a, b = mp.Pipe()
    p = mp.Process(target=echo, args=(b, n))
    p.start()
    b.close()  # the child's: recv sees EOF if the child dies
    msg = b"x" * 64

    def round_trip():
        a.send_bytes(msg)
        got = a.recv_bytes()
        if len(got) != len(msg):
            raise Failure("pingpong: %d bytes came back, not %d" % (len(got), len(msg)))

    round_trip()  # the child is up
    t = time.perf_counter_ns()
    for _ in range(n - 1):
        round_trip()
    per = (time.perf_counter_ns() - t) // (n - 1)
    p.join()
    check_exits([p])
    return per, ""


def throughput(d, n, size):
    mib = n * size / (1 << 20)
    return d // n, " mib_per_s=%.3f" % (mib / (d / 1e9))


def pipe(n, size):
    r, w = mp.Pipe(duplex=False)
    ready = mp.Semaphore(0)
    p = mp.Process(target=pipe_sink, args=(r, n, size, ready))
    p.start()
    r.close()  # the child's: send fails if the child dies
    return stream(p, ready, n, size, w.send_bytes)


def queue(n, size):
    q = mp.Queue()
    ready = mp.Semaphore(0)
    p = mp.Process(target=queue_sink, args=(q, n, size, ready))
    p.start()
    return stream(p, ready, n, size, q.put)


def stream(p, ready, n, size, send):
    """n messages of size bytes sent with send to the started child p,
    timed from the first send (once p said it runs) to p's join."""
    wait_ready(ready, 1, [p])
    msg = b"x" * size
    t = time.perf_counter_ns()
    for _ in range(n):
        send(msg)
    p.join()
    d = time.perf_counter_ns() - t
    check_exits([p])
    return throughput(d, n, size)


def barrier(n, _):
    b = mp.Barrier(4)
    procs = [mp.Process(target=barrier_child, args=(b, n)) for _ in range(3)]
    for p in procs:
        p.start()
    b.wait()
    t = time.perf_counter_ns()
    for _ in range(n - 1):
        b.wait()
    per = (time.perf_counter_ns() - t) // (n - 1)
    for p in procs:
        p.join()
    check_exits(procs)
    return per, ""


def lock(n, _):
    lk = mp.Lock()
    start = mp.Event()
    ready = mp.Semaphore(0)
    procs = [mp.Process(target=lock_child, args=(lk, start, n, ready)) for _ in range(4)]
    for p in procs:
        p.start()
    wait_ready(ready, len(procs), procs)
    t = time.perf_counter_ns()
    start.set()
    for p in procs:
        p.join()
    per = (time.perf_counter_ns() - t) // (4 * n)
    check_exits(procs)
    return per, ""


def pool(n, _):
    xs = list(range(100))
    t = time.perf_counter_ns()
    for _ in range(n):
        with mp.Pool(4) as pl:
            ys = pl.map(square, xs)
            if len(ys) != 100 or ys[99] != 99 * 99:
                raise Failure("pool: map returned %d results, not 100 squares" % len(ys))
            pl.close()
            pl.join()
    return (time.perf_counter_ns() - t) // n, ""


# name: (function, least N, needs SIZE)
SHAPES = {
    "spawn": (spawn, 1, False),
    "first": (first, 1, False),
    "spawn8": (spawn8, 1, False),
    "pingpong": (pingpong, 2, False),
    "pipe": (pipe, 1, True),
    "queue": (queue, 1, True),
    "barrier": (barrier, 2, False),
    "lock": (lock, 1, False),
    "pool": (pool, 1, False),
    "alive": (alive, 1, False),
}


def usage(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "hello":
        # Before anything else: the harness times the run up to this line.
        print("ready", flush=True)
        print("ns_per_op=0")
        return
    if len(sys.argv) not in (4, 5):
        usage("usage: python3 bench.py SHAPE N METHOD [SIZE]")
    name, n_arg, method = sys.argv[1:4]
    if name not in SHAPES:
        usage("bench.py: unknown shape " + name)
    fn, min_n, need_size = SHAPES[name]
    try:
        n = int(n_arg)
    except ValueError:
        n = None
    if n is None or n < min_n:
        usage("bench.py: %s: N must be a number >= %d, not %r" % (name, min_n, n_arg))
    size = 0
    if need_size != (len(sys.argv) == 5):
        usage("bench.py: %s %s" % (name, "needs a SIZE" if need_size else "takes no SIZE"))
    if need_size:
        try:
            size = int(sys.argv[4])
        except ValueError:
            size = 0
        if size < 1:
            usage("bench.py: %s: SIZE must be a number >= 1, not %r" % (name, sys.argv[4]))
    try:
        mp.set_start_method(method)
    except ValueError as e:
        usage("bench.py: start method %r: %s" % (method, e))
    try:
        per, extra = fn(n, size)
    except BaseException as e:  # KeyboardInterrupt too: never leave children behind
        for p in mp.active_children():
            p.kill()
        for p in mp.active_children():
            p.join()
        print("bench.py: %s: %s: %s" % (name, type(e).__name__, e), file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)  # not sys.exit: a Queue's feeder thread could block the exit
    print("ns_per_op=%d%s" % (per, extra))


if __name__ == "__main__":
    main()
