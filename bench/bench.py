"""The CPython side of `make bench`: the same shapes as the sandbox's bench
guest (internal/testguests/bench), with multiprocessing's fork or spawn
start method. Prints one line: ns_per_op=N.

usage: python3 bench.py SHAPE N METHOD
"""
import multiprocessing as mp
import sys
import time


def noop():
    pass


def echo(conn, n):
    for _ in range(n):
        conn.send_bytes(conn.recv_bytes())


def square(x):
    return x * x


def consume(q, n):
    for _ in range(n):
        q.get()


def main():
    shape, n, method = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    mp.set_start_method(method)
    if shape == "spawn":
        t = time.perf_counter_ns()
        for _ in range(n):
            p = mp.Process(target=noop)
            p.start()
            p.join()
        per = (time.perf_counter_ns() - t) / n
    elif shape == "pingpong":
        a, b = mp.Pipe()
        p = mp.Process(target=echo, args=(b, n))
        p.start()
        msg = b"x" * 64
        a.send_bytes(msg)  # warm up: the child is running
        a.recv_bytes()
        t = time.perf_counter_ns()
        for _ in range(n - 1):
            a.send_bytes(msg)
            a.recv_bytes()
        per = (time.perf_counter_ns() - t) / (n - 1)
        p.join()
    elif shape == "queue":
        # n MiB as 4 KiB messages; per op = per MiB.
        q = mp.Queue()
        count = n * 256
        p = mp.Process(target=consume, args=(q, count))
        p.start()
        msg = b"x" * 4096
        t = time.perf_counter_ns()
        for _ in range(count):
            q.put(msg)
        p.join()
        per = (time.perf_counter_ns() - t) / n
    elif shape == "pool":
        t = time.perf_counter_ns()
        for _ in range(n):
            with mp.Pool(4) as pool:
                pool.map(square, range(100))
                pool.close()
                pool.join()
        per = (time.perf_counter_ns() - t) / n
    else:
        sys.exit("unknown shape " + shape)
    print("ns_per_op=%d" % per)


if __name__ == "__main__":
    main()
