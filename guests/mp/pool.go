package mp

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Pool is Python's multiprocessing.Pool: worker processes that call
// registered functions for the caller, with results in input order (Map,
// Imap, Starmap), in completion order (ImapUnordered), or one call at a
// time (Apply, ApplyAsync).
//
// The pool is built in this package on the public parts of the sandbox,
// as CPython builds it on Process and queues: NewPool starts daemon
// worker processes, named ForkPoolWorker-N as CPython names them with the
// fork start method, that take tasks from one Queue and put results on
// another. A task is a chunk of calls of one function; a worker decodes
// their arguments, calls the function (recovering a panic), and puts back
// the results as JSON or the failure as a RemoteError. A worker error
// therefore comes back to the caller as an error and the worker goes on
// with the next task.
//
// CPython collects results with a thread of the calling process. A guest
// cannot do that (a blocking host call blocks every goroutine), so the
// caller collects them itself, whenever it waits for a result (Map, Get,
// Wait, Ready, iterating Imap): it takes whatever result arrives and files
// it under its job, so results of several jobs may arrive in any order.
// While it waits it also checks, every 100 ms, that its workers are alive,
// and replaces those that ended, as CPython's worker handler does. (As in
// CPython, a task whose worker was killed is lost: its result never
// comes.)
//
// Functions the pool calls must be registered with Register, before Main,
// like process targets. Map, Imap and ImapUnordered take a func(T) R or a
// func(T) (R, error); Starmap and Apply any registered function.
//
//	func square(x int) int { return x * x }
//
//	func main() {
//		mp.Register(square)
//		mp.Main(func() {
//			pool := mp.NewPool(4)
//			defer pool.Terminate()
//			squares, err := mp.Map[int](pool, square, []int{1, 2, 3}) // [1 4 9]
//			fmt.Println(squares, err)
//			for v, err := range mp.ImapUnordered[int](pool, square, []int{4, 5}) {
//				fmt.Println(v, err) // 16 and 25, in either order
//			}
//			r := mp.ApplyAsync[int](pool, square, 7)
//			v, err := r.Get(time.Second) // 49
//			fmt.Println(v, err)
//			pool.Close()
//			pool.Join()
//		})
//	}
type Pool struct {
	mu       sync.Mutex
	state    poolState
	workers  []*Process
	tasks    *Queue
	results  *Queue
	initName string          // registered initializer, "" for none
	initArgs json.RawMessage // its arguments, a JSON array
	nextJob  int64
	jobs     map[int64]*job // jobs whose results have not all arrived
}

type poolState int

const (
	poolRunning poolState = iota
	poolClosed
	poolTerminated
)

func (s poolState) String() string {
	return [...]string{"RUN", "CLOSE", "TERMINATE"}[s]
}

// poolWorkerTarget is the target of pool workers. No Go function's
// runtime name contains a colon, so it cannot clash with a registered one.
const poolWorkerTarget = "mp:pool-worker"

// poolCheckInterval is how often a caller waiting for results checks that
// the workers are alive (CPython's worker handler sleeps 0.1 s).
const poolCheckInterval = 100 * time.Millisecond

// PoolOption configures a new Pool.
type PoolOption func(*poolConfig)

type poolConfig struct {
	initName string
	initArgs []any
}

// Initializer makes each worker call fn(args...) when it starts, as
// Python's Pool(initializer=fn, initargs=args). fn must be registered with
// Register. A worker whose initializer panics or returns an error ends
// (and is replaced).
func Initializer(fn any, args ...any) PoolOption {
	return func(c *poolConfig) {
		c.initName = registeredName("Initializer", fn)
		c.initArgs = args
	}
}

// registeredName returns the runtime name of fn, panicking if it is not a
// registered function.
func registeredName(what string, fn any) string {
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func || v.IsNil() {
		panic(fmt.Sprintf("mp: %s: %T is not a function", what, fn))
	}
	name := funcName(v)
	if _, ok := registered(name); !ok {
		panic(fmt.Sprintf("mp: %s: function %s is not registered: call mp.Register(%s) before mp.Main",
			what, name, shortName(name)))
	}
	return name
}

// NewPool starts a pool of processes workers, as Python's
// Pool(processes). Python's default (os.cpu_count()) has no counterpart,
// since a guest does not know the host's CPUs: give the number.
//
// It panics if processes is below 1 ("Number of processes must be at
// least 1"), on a bad option, or if a worker cannot be started (the run's
// process limit, say), after terminating those that started.
func NewPool(processes int, opts ...PoolOption) *Pool {
	if processes < 1 {
		panic("mp: NewPool: Number of processes must be at least 1")
	}
	var cfg poolConfig
	for _, o := range opts {
		o(&cfg)
	}
	p := &Pool{
		tasks:    NewQueue(0),
		results:  NewQueue(0),
		initName: cfg.initName,
		jobs:     make(map[int64]*job),
	}
	if cfg.initArgs == nil {
		cfg.initArgs = []any{}
	}
	args, err := marshalArray(cfg.initArgs)
	if err != nil {
		panic(fmt.Sprintf("mp: NewPool: encoding the initializer's arguments: %v", err))
	}
	p.initArgs = args
	for range processes {
		if err := p.startWorker(); err != nil {
			p.Terminate()
			panic("mp: NewPool: " + err.Error())
		}
	}
	return p
}

// workerArgs are the arguments of a pool worker, the process's arguments
// [tasks, results, "init", [init args, ...]].
type workerArgs struct {
	Tasks    *Queue
	Results  *Queue
	Init     string
	InitArgs json.RawMessage
}

func (a *workerArgs) appendJSON(b []byte) ([]byte, error) {
	tasks, err1 := a.Tasks.MarshalJSON()
	results, err2 := a.Results.MarshalJSON()
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	b = append(b, '[')
	b = append(b, tasks...)
	b = append(b, ',')
	b = append(b, results...)
	b = append(b, ',')
	b = appendJSONString(b, a.Init)
	b = append(b, ',')
	b = append(b, a.InitArgs...)
	return append(b, ']'), nil
}

func (a *workerArgs) decode(b []byte) error {
	els, err := splitArray(b)
	if err := fields("the arguments of a pool worker", els, err, 4); err != nil {
		return err
	}
	a.Tasks, a.Results = new(Queue), new(Queue)
	err1 := a.Tasks.UnmarshalJSON(els[0])
	err2 := a.Results.UnmarshalJSON(els[1])
	init, err3 := jsonString(els[2])
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("the arguments of a pool worker: %w", err)
	}
	a.Init, a.InitArgs = init, els[3]
	return nil
}

// startWorker creates and starts one worker, named as CPython names it:
// a ForkProcess whose name has "Process" replaced by "PoolWorker".
func (p *Pool) startWorker() error {
	wa := workerArgs{Tasks: p.tasks, Results: p.results, Init: p.initName, InitArgs: p.initArgs}
	args, err := wa.appendJSON(nil)
	if err != nil {
		return err
	}
	w := &Process{class: "ForkProcess"}
	w.create(poolWorkerTarget, args, "ForkProcess", config{daemon: true, daemonSet: true})
	if name, err := w.name(); err == nil {
		w.SetName(strings.ReplaceAll(name, "Process", "PoolWorker"))
	}
	if err := w.Start(); err != nil {
		return err
	}
	p.workers = append(p.workers, w)
	return nil
}

// Workers returns the worker processes.
func (p *Pool) Workers() []*Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Process(nil), p.workers...)
}

// String returns CPython's repr: <multiprocessing.pool.Pool state=RUN
// pool_size=4>.
func (p *Pool) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("<multiprocessing.pool.Pool state=%s pool_size=%d>", p.state, len(p.workers))
}

// maintain replaces workers that have ended, while the pool runs. p.mu
// held.
func (p *Pool) maintain() {
	if p.state != poolRunning {
		return
	}
	alive := p.workers[:0]
	dead := 0
	for _, w := range p.workers {
		if _, stopped := w.ExitCode(); stopped {
			w.Join()
			dead++
			continue
		}
		alive = append(alive, w)
	}
	p.workers = alive
	for range dead {
		if err := p.startWorker(); err != nil {
			fmt.Fprintf(stderr, "mp: pool: replacing a worker: %v\n", err)
			return
		}
	}
}

// Close stops the pool from taking new work: the workers finish the
// tasks already given and then exit. Call Join to wait for them.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != poolRunning {
		return
	}
	p.state = poolClosed
	for range p.workers {
		if err := p.tasks.Put(nil); err != nil { // the sentinel, Python's None
			fmt.Fprintf(stderr, "mp: pool: close: %v\n", err)
		}
	}
}

// Terminate stops the workers at once (SIGTERM), without finishing the
// tasks given, and waits for them. Results not arrived by then fail with
// an error that wraps ErrState. Python's "with Pool() as p:" calls it at
// the end of the block: defer it.
func (p *Pool) Terminate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == poolTerminated {
		return
	}
	p.state = poolTerminated
	for _, w := range p.workers {
		w.Terminate()
	}
	for _, w := range p.workers {
		w.Join()
	}
	p.drain()
	for id, j := range p.jobs {
		j.abort(&procError{msg: "the pool was terminated before the result arrived", err: ErrState})
		delete(p.jobs, id)
	}
}

// Join waits for the workers to exit, after Close or Terminate. The error
// wraps ErrValue ("Pool is still running") before them.
func (p *Pool) Join() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == poolRunning {
		return &procError{msg: "Pool is still running", err: ErrValue}
	}
	var first error
	for _, w := range p.workers {
		if err := w.Join(); err != nil && first == nil {
			first = err
		}
	}
	p.drain()
	return first
}

// drain files every result already in the result queue. p.mu held.
func (p *Pool) drain() {
	for {
		b, err := p.results.getBytes(0)
		if err != nil {
			return
		}
		p.file(b)
	}
}

// file files one result under its job. p.mu held.
func (p *Pool) file(b []byte) {
	var r poolResult
	if err := r.decode(b); err != nil {
		fmt.Fprintf(stderr, "mp: pool: a malformed result: %v\n", err)
		return
	}
	j := p.jobs[r.Job]
	if j == nil {
		return // abandoned
	}
	j.set(r)
	if j.left == 0 {
		delete(p.jobs, r.Job)
	}
}

// collect takes results until done() holds or the timeout (negative:
// none) passes; ErrTimeout then. p.mu held.
func (p *Pool) collect(done func() bool, timeout time.Duration) error {
	var deadline time.Time
	if timeout >= 0 {
		deadline = time.Now().Add(timeout)
	}
	for !done() {
		wait, expired := poolCheckInterval, false
		if timeout >= 0 {
			if left := time.Until(deadline); left > 0 {
				wait = min(wait, left)
			} else {
				wait, expired = 0, true // still take what has arrived
			}
		}
		b, err := p.results.getBytes(int64(wait))
		switch {
		case errors.Is(err, ErrEmpty) && expired:
			return ErrTimeout
		case errors.Is(err, ErrEmpty):
			p.maintain()
			continue
		case err != nil:
			return err
		}
		p.file(b)
	}
	return nil
}

// job is one call of Map, Imap, Apply...: CPython's cache entry.
type job struct {
	id      int64
	chunks  int
	left    int
	values  [][]json.RawMessage // by chunk
	errs    []error             // by chunk
	arrived []int               // chunks in order of arrival
	err     error               // the first failure to arrive
}

func (j *job) set(r poolResult) {
	if r.Chunk < 0 || r.Chunk >= j.chunks || j.has(r.Chunk) {
		return // not one of its chunks, or a duplicate
	}
	if r.Err != nil {
		j.errs[r.Chunk] = r.Err
		if j.err == nil {
			j.err = r.Err
		}
	} else {
		if r.Values == nil {
			r.Values = []json.RawMessage{}
		}
		j.values[r.Chunk] = r.Values
	}
	j.arrived = append(j.arrived, r.Chunk)
	j.left--
}

// abort fails every chunk that has not arrived.
func (j *job) abort(err error) {
	for c := range j.chunks {
		if j.values[c] == nil && j.errs[c] == nil {
			j.set(poolResult{Job: j.id, Chunk: c, Err: &RemoteError{Msg: err.Error(), cause: err}})
		}
	}
}

func (j *job) has(c int) bool { return j.values[c] != nil || j.errs[c] != nil }

// poolTask is a chunk of calls of one function, as a worker takes it: a
// JSON array [job, chunk, "func", [args, ...]] (jsonarray.go says why not
// an object).
type poolTask struct {
	Job   int64
	Chunk int
	Func  string
	Args  []json.RawMessage // one JSON array of arguments per call
}

func (t *poolTask) appendJSON(b []byte) []byte {
	b = appendJobChunk(b, t.Job, t.Chunk)
	b = appendJSONString(b, t.Func)
	b = append(b, ',')
	b = appendArray(b, t.Args)
	return append(b, ']')
}

func (t *poolTask) decode(b []byte) error {
	els, err := splitArray(b)
	if err := fields("a task", els, err, 4); err != nil {
		return err
	}
	job, chunk, err1 := jobChunk(els)
	fn, err2 := jsonString(els[2])
	args, err3 := rawArray(els[3])
	if err := errors.Join(err1, err2, err3); err != nil {
		return fmt.Errorf("a task: %w", err)
	}
	*t = poolTask{Job: job, Chunk: chunk, Func: fn, Args: args}
	return nil
}

// appendJobChunk begins a task's or a result's array: "[job,chunk,".
func appendJobChunk(b []byte, job int64, chunk int) []byte {
	b = append(b, '[')
	b = strconv.AppendInt(b, job, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(chunk), 10)
	return append(b, ',')
}

// jobChunk decodes the first two elements of a task or a result.
func jobChunk(els [][]byte) (job int64, chunk int, err error) {
	job, err1 := jsonInt(els[0])
	c, err2 := jsonInt(els[1])
	return job, int(c), errors.Join(err1, err2)
}

// poolResult is what a worker puts back for a task: [job, chunk,
// [values, ...]], or [job, chunk, null, error] (the error a RemoteError's
// JSON object).
type poolResult struct {
	Job    int64
	Chunk  int
	Values []json.RawMessage
	Err    *RemoteError
}

func (r *poolResult) appendJSON(b []byte) ([]byte, error) {
	b = appendJobChunk(b, r.Job, r.Chunk)
	if r.Err == nil {
		b = appendArray(b, r.Values)
		return append(b, ']'), nil
	}
	e, err := json.Marshal(r.Err)
	if err != nil {
		return nil, err
	}
	b = append(b, "null,"...)
	b = append(b, e...)
	return append(b, ']'), nil
}

func (r *poolResult) decode(b []byte) error {
	els, err := splitArray(b)
	if err := fields("a result", els, err, 3, 4); err != nil {
		return err
	}
	job, chunk, err := jobChunk(els)
	if err != nil {
		return fmt.Errorf("a result: %w", err)
	}
	*r = poolResult{Job: job, Chunk: chunk}
	if len(els) == 4 {
		if string(els[2]) != "null" || string(els[3]) == "null" {
			return errors.New("a result: values and an error")
		}
		r.Err = new(RemoteError)
		if err := json.Unmarshal(els[3], r.Err); err != nil {
			return fmt.Errorf("a result's error: %w", err)
		}
		return nil
	}
	if r.Values, err = rawArray(els[2]); err != nil {
		return fmt.Errorf("a result's values: %w", err)
	}
	return nil
}

// RemoteError is the failure of a Pool function in a worker: the error it
// returned, or the panic it raised, with the worker's stack. Python
// re-raises the worker's exception in the caller with the remote
// traceback attached; here the error carries its text.
type RemoteError struct {
	Func   string `json:"func"`            // runtime name of the function, such as "main.square"
	Worker string `json:"worker"`          // name of the worker that ran it
	Msg    string `json:"msg"`             // the error's text, or the panic's value
	Panic  bool   `json:"panic,omitempty"` // the function panicked
	Stack  string `json:"stack,omitempty"` // the worker's stack at the panic
	cause  error  // set in the caller for a failure of its own (ErrState after Terminate)
}

// Error returns the function's error text, or "panic: VALUE" for a panic.
func (e *RemoteError) Error() string {
	if e.Panic {
		return "panic: " + e.Msg
	}
	return e.Msg
}

// Unwrap returns the caller-side cause, if any.
func (e *RemoteError) Unwrap() error { return e.cause }

// submit puts the tasks of a new job: fn called with each argument list
// (JSON arrays), chunksize calls to a task. p.mu held.
func (p *Pool) submit(fname string, calls []json.RawMessage, chunksize int) (*job, error) {
	if p.state != poolRunning {
		return nil, &procError{msg: "Pool not running", err: ErrValue}
	}
	p.nextJob++
	n := 0
	if len(calls) > 0 {
		n = (len(calls) + chunksize - 1) / chunksize
	}
	j := &job{id: p.nextJob, chunks: n, left: n,
		values: make([][]json.RawMessage, n), errs: make([]error, n), arrived: make([]int, 0, n)}
	if n > 0 {
		p.jobs[j.id] = j
	}
	for c := range n {
		t := poolTask{Job: j.id, Chunk: c, Func: fname, Args: calls[c*chunksize : min((c+1)*chunksize, len(calls))]}
		if err := p.tasks.putJSON(t.appendJSON(nil), -1); err != nil {
			delete(p.jobs, j.id)
			return nil, fmt.Errorf("mp: pool: submitting a task: %w", err)
		}
	}
	return j, nil
}

// PoolFunc is the type of a function Map, Imap and ImapUnordered call for
// each item: func(T) R, or func(T) (R, error).
type PoolFunc[T, R any] interface {
	~func(T) R | ~func(T) (R, error)
}

// MapOption configures Map, Imap, ImapUnordered, Starmap and their async
// forms.
type MapOption func(*mapConfig)

type mapConfig struct{ chunksize int }

// Chunksize sets how many items a worker takes at once (Python's
// chunksize). Map and Starmap choose one by default as CPython does (the
// items divided by four times the workers, rounded up); Imap and
// ImapUnordered take 1.
func Chunksize(n int) MapOption {
	return func(c *mapConfig) { c.chunksize = n }
}

// itemCalls encodes each item as a one-argument call.
func itemCalls[T any](items []T) ([]json.RawMessage, error) {
	calls := make([]json.RawMessage, len(items))
	for i, it := range items {
		b, err := marshalArray([]any{it})
		if err != nil {
			return nil, fmt.Errorf("mp: pool: encoding item %d: %w", i, err)
		}
		calls[i] = b
	}
	return calls, nil
}

// argCalls encodes each argument list as a call.
func argCalls(args [][]any) ([]json.RawMessage, error) {
	calls := make([]json.RawMessage, len(args))
	for i, a := range args {
		if a == nil {
			a = []any{}
		}
		b, err := marshalArray(a)
		if err != nil {
			return nil, fmt.Errorf("mp: pool: encoding the arguments of call %d: %w", i, err)
		}
		calls[i] = b
	}
	return calls, nil
}

// start submits a job for fn over calls.
func (p *Pool) start(what string, fn any, calls []json.RawMessage, opts []MapOption, defaultChunks bool) (*job, error) {
	name := registeredName(what, fn)
	cfg := mapConfig{chunksize: 1}
	p.mu.Lock()
	defer p.mu.Unlock()
	if defaultChunks {
		n := len(p.workers) * 4
		cfg.chunksize = max((len(calls)+n-1)/max(n, 1), 1)
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.chunksize < 1 {
		return nil, &procError{msg: fmt.Sprintf("Chunksize must be 1+, not %d", cfg.chunksize), err: ErrValue}
	}
	return p.submit(name, calls, cfg.chunksize)
}

// Map calls fn for each item in the workers and returns the results in
// the order of items, as Python's pool.map. It waits for every result; if
// calls failed, the error is the first failure to arrive (a
// *RemoteError).
//
// R, the result type, must be given: mp.Map[int](pool, square, items).
// fn must be registered with Register. Map panics if it is not.
func Map[R any, T any, F PoolFunc[T, R]](p *Pool, fn F, items []T, opts ...MapOption) ([]R, error) {
	return MapAsync[R](p, fn, items, opts...).Get(-1)
}

// MapAsync is Map that returns at once, as Python's map_async: Get the
// results from the AsyncResult.
func MapAsync[R any, T any, F PoolFunc[T, R]](p *Pool, fn F, items []T, opts ...MapOption) *AsyncResult[[]R] {
	calls, err := itemCalls(items)
	if err != nil {
		return failed[[]R](p, err)
	}
	j, err := p.start("Map", fn, calls, opts, true)
	if err != nil {
		return failed[[]R](p, err)
	}
	return &AsyncResult[[]R]{pool: p, job: j, decode: decodeAll[R]}
}

// Starmap calls fn with each list of arguments in the workers and returns
// the results in order, as Python's pool.starmap:
// mp.Starmap[int](pool, add, [][]any{{1, 2}, {3, 4}}) is [3 7]. fn may be
// any registered function; its arguments are decoded into its parameter
// types, as a process target's. Errors are Map's.
func Starmap[R any](p *Pool, fn any, args [][]any, opts ...MapOption) ([]R, error) {
	return StarmapAsync[R](p, fn, args, opts...).Get(-1)
}

// StarmapAsync is Starmap that returns at once, as Python's starmap_async.
func StarmapAsync[R any](p *Pool, fn any, args [][]any, opts ...MapOption) *AsyncResult[[]R] {
	calls, err := argCalls(args)
	if err != nil {
		return failed[[]R](p, err)
	}
	j, err := p.start("Starmap", fn, calls, opts, true)
	if err != nil {
		return failed[[]R](p, err)
	}
	return &AsyncResult[[]R]{pool: p, job: j, decode: decodeAll[R]}
}

// Apply calls fn(args...) in a worker and returns its result, as Python's
// pool.apply. The error is the call's failure (a *RemoteError).
func Apply[R any](p *Pool, fn any, args ...any) (R, error) {
	return ApplyAsync[R](p, fn, args...).Get(-1)
}

// ApplyAsync calls fn(args...) in a worker and returns at once, as
// Python's apply_async: Get the result from the AsyncResult.
func ApplyAsync[R any](p *Pool, fn any, args ...any) *AsyncResult[R] {
	calls, err := argCalls([][]any{args})
	if err != nil {
		return failed[R](p, err)
	}
	j, err := p.start("ApplyAsync", fn, calls, nil, false)
	if err != nil {
		return failed[R](p, err)
	}
	return &AsyncResult[R]{pool: p, job: j, decode: decodeOne[R]}
}

// Imap calls fn for each item in the workers and yields the results in
// the order of items as they become available, as Python's pool.imap. A
// failed call yields its error (a *RemoteError) in its place, and the
// iteration goes on; with a Chunksize above 1, a failed chunk yields one
// error for all its items.
//
// The tasks are submitted when Imap is called. Stopping the iteration
// early drops the results still to come.
func Imap[R any, T any, F PoolFunc[T, R]](p *Pool, fn F, items []T, opts ...MapOption) iter.Seq2[R, error] {
	return imapSeq[R](p, "Imap", fn, items, opts, true)
}

// ImapUnordered is Imap that yields the results in the order they arrive,
// as Python's pool.imap_unordered: every result comes once, in any order.
func ImapUnordered[R any, T any, F PoolFunc[T, R]](p *Pool, fn F, items []T, opts ...MapOption) iter.Seq2[R, error] {
	return imapSeq[R](p, "ImapUnordered", fn, items, opts, false)
}

// imapSeq submits the job of Imap or ImapUnordered and returns the
// iterator over its results.
func imapSeq[R, T any](p *Pool, what string, fn any, items []T, opts []MapOption, ordered bool) iter.Seq2[R, error] {
	calls, err := itemCalls(items)
	var j *job
	if err == nil {
		j, err = p.start(what, fn, calls, opts, false)
	}
	return func(yield func(R, error) bool) {
		var zero R
		if err != nil {
			yield(zero, err)
			return
		}
		abandon := func() {
			p.mu.Lock()
			delete(p.jobs, j.id)
			p.mu.Unlock()
		}
		for k := range j.chunks {
			c := k
			p.mu.Lock()
			var err error
			if ordered {
				err = p.collect(func() bool { return j.has(c) }, -1)
			} else {
				err = p.collect(func() bool { return len(j.arrived) > k }, -1)
				if err == nil {
					c = j.arrived[k]
				}
			}
			p.mu.Unlock()
			if err != nil {
				yield(zero, err)
				abandon()
				return
			}
			if j.errs[c] != nil {
				if !yield(zero, j.errs[c]) {
					abandon()
					return
				}
				continue
			}
			for _, v := range j.values[c] {
				var r R
				err := unmarshal(v, &r)
				if err != nil {
					err = fmt.Errorf("mp: pool: decoding a result into %T: %w", r, err)
				}
				if !yield(r, err) {
					abandon()
					return
				}
			}
		}
	}
}

// AsyncResult is the result of a call that returned at once (ApplyAsync,
// MapAsync, StarmapAsync), Python's AsyncResult: Get waits for it.
//
//	r := mp.ApplyAsync[int](pool, square, 7)
//	if r.Wait(time.Second) {
//		ok, _ := r.Successful() // true
//		v, _ := r.Get(0)        // 49
//		fmt.Println(ok, v)
//	}
type AsyncResult[R any] struct {
	pool   *Pool
	job    *job
	err    error // the submission failed
	decode func(*job) (R, error)
}

func failed[R any](p *Pool, err error) *AsyncResult[R] {
	return &AsyncResult[R]{pool: p, err: err}
}

// Wait waits until the result is ready, at most timeout (0 does not wait,
// negative waits forever), and reports whether it is.
func (a *AsyncResult[R]) Wait(timeout time.Duration) bool {
	if a.err != nil {
		return true
	}
	a.pool.mu.Lock()
	defer a.pool.mu.Unlock()
	a.pool.collect(func() bool { return a.job.left == 0 }, timeout)
	return a.job.left == 0
}

// Ready reports whether the result is ready, without waiting.
func (a *AsyncResult[R]) Ready() bool { return a.Wait(0) }

// Successful reports whether the call succeeded. The error wraps ErrValue
// when the result is not ready yet (Python's ValueError).
func (a *AsyncResult[R]) Successful() (bool, error) {
	if !a.Ready() {
		return false, &procError{msg: "result is not ready", err: ErrValue}
	}
	return a.err == nil && a.job.err == nil, nil
}

// Get waits for the result, at most timeout (negative: forever), and
// returns it, or the call's failure (a *RemoteError; for Map, the first
// failure to arrive). When the timeout passes first, the error wraps
// ErrTimeout (Python's multiprocessing.TimeoutError) and the result may
// still be asked for later.
func (a *AsyncResult[R]) Get(timeout time.Duration) (R, error) {
	var zero R
	if !a.Wait(timeout) {
		return zero, fmt.Errorf("mp: pool: the result is not ready: %w", ErrTimeout)
	}
	if a.err != nil {
		return zero, a.err
	}
	if a.job.err != nil {
		return zero, a.job.err
	}
	return a.decode(a.job)
}

func decodeOne[R any](j *job) (R, error) {
	var r R
	if len(j.values) != 1 || len(j.values[0]) != 1 {
		return r, fmt.Errorf("%w: pool: expected one result", ErrHost)
	}
	if err := unmarshal(j.values[0][0], &r); err != nil {
		return r, fmt.Errorf("mp: pool: decoding a result into %T: %w", r, err)
	}
	return r, nil
}

func decodeAll[R any](j *job) ([]R, error) {
	out := make([]R, 0, len(j.values))
	for _, chunk := range j.values {
		for _, v := range chunk {
			var r R
			if err := unmarshal(v, &r); err != nil {
				return nil, fmt.Errorf("mp: pool: decoding a result into %T: %w", r, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// The worker side.

// bootstrapPoolWorker makes the body of a pool worker from its arguments.
func bootstrapPoolWorker(args []byte) (func(), error) {
	var a workerArgs
	if err := a.decode(args); err != nil {
		return nil, fmt.Errorf("decoding %w", err)
	}
	return func() {
		if err := poolWorker(a); err != nil {
			panic(targetError{err})
		}
	}, nil
}

// poolWorker is CPython's pool.worker: it runs the initializer, then
// takes tasks until it gets the sentinel (null).
func poolWorker(a workerArgs) error {
	cur, err := st.currentProcess()
	if err != nil {
		return err
	}
	cur.class = "ForkProcess"
	worker := cur.label()
	if a.Init != "" {
		fn, ok := registered(a.Init)
		if !ok {
			return fmt.Errorf("initializer %s is not registered in this program", a.Init)
		}
		in, err := decodeArgs(a.Init, fn.Type(), a.InitArgs)
		if err != nil {
			return err
		}
		if err := resultError(fn.Call(in)); err != nil {
			return fmt.Errorf("initializer: %w", err)
		}
	}
	for {
		b, err := a.Tasks.getBytes(-1)
		if err != nil {
			return fmt.Errorf("taking a task: %w", err)
		}
		if string(b) == "null" {
			return nil
		}
		var t poolTask
		if err := t.decode(b); err != nil {
			return fmt.Errorf("decoding %w", err)
		}
		r := runTask(t)
		if r.Err != nil {
			r.Err.Func, r.Err.Worker = t.Func, worker
		}
		err = putResult(a.Results, r)
		if errors.Is(err, ErrTooBig) { // report it rather than lose the result
			r = poolResult{Job: t.Job, Chunk: t.Chunk, Err: &RemoteError{Func: t.Func, Worker: worker,
				Msg: fmt.Sprintf("the result of %s is too large for the run: %v", t.Func, err)}}
			err = putResult(a.Results, r)
		}
		if err != nil {
			return fmt.Errorf("putting a result: %w", err)
		}
	}
}

func putResult(q *Queue, r poolResult) error {
	b, err := r.appendJSON(nil)
	if err != nil {
		return err
	}
	return q.putJSON(b, -1)
}

// runTask makes every call of a task; the first failure fails the task.
func runTask(t poolTask) poolResult {
	r := poolResult{Job: t.Job, Chunk: t.Chunk}
	fn, ok := registered(t.Func)
	if !ok {
		r.Err = &RemoteError{Msg: fmt.Sprintf("function %s is not registered in this program: call mp.Register(%s) before mp.Main",
			t.Func, shortName(t.Func))}
		return r
	}
	values := make([]json.RawMessage, 0, len(t.Args))
	for _, args := range t.Args {
		v, err := callOne(fn, t.Func, args)
		if err != nil {
			r.Err = err
			return r
		}
		values = append(values, v)
	}
	r.Values = values
	return r
}

// callOne calls fn with args (a JSON array) and encodes its result.
func callOne(fn reflect.Value, name string, args json.RawMessage) (v json.RawMessage, rerr *RemoteError) {
	in, err := decodeArgs(name, fn.Type(), args)
	if err != nil {
		return nil, &RemoteError{Msg: err.Error()}
	}
	defer func() {
		if r := recover(); r != nil {
			rerr = &RemoteError{Msg: panicValue(r), Panic: true, Stack: trimStack(debug.Stack())}
		}
	}()
	out := fn.Call(in)
	if err := resultError(out); err != nil {
		return nil, &RemoteError{Msg: err.Error()}
	}
	var result any
	if len(out) > 0 && out[0].Type() != errorType {
		result = out[0].Interface()
	}
	b, err := marshal(result)
	if err != nil {
		return nil, &RemoteError{Msg: fmt.Sprintf("encoding the result of %s: %v", name, err)}
	}
	return b, nil
}
