package reql

import (
	"context"
	"sync"
	"time"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Memory is the in-memory Engine: every database, table and index lives in
// this process and is lost with it.
//
// Concurrency: a query that writes runs under the write lock, a read-only
// query under the read lock. Every query is therefore atomic and serializable,
// which is stronger than RethinkDB's per-document atomicity, never weaker.
type Memory struct {
	mu  sync.RWMutex
	dbs map[string]*database
	// dupDBs are the other databases of a name in dbs (see dupTables).
	dupDBs map[string][]*database
	// Now is the clock, replaceable in tests.
	Now func() time.Time
	// ServerName is the one server's name in table configurations (the
	// replicas of table_create's shards); "" is "minirethink".
	ServerName string
	// CreateRaceWindow, when positive, makes table_create and db_create
	// behave as RethinkDB 2.4's, which does not serialize them across
	// clients: a creation does not see a table or database of the same
	// name made less than this long ago (its creation still propagating),
	// so two clients creating one name at about the same time both succeed
	// and make two, and the name is ambiguous until one is dropped (through
	// rethinkdb.table_config or db_config). Zero: creations are
	// serialized, the second fails with "already exists".
	CreateRaceWindow time.Duration
	// persist is the data directory of a durable engine (Open), nil for
	// one in memory only (see persist.go).
	persist *persistState
}

// New returns an empty in-memory engine with the "test" database, as a fresh
// RethinkDB server has.
func New() *Memory {
	m := &Memory{dbs: map[string]*database{}, dupDBs: map[string][]*database{}, Now: time.Now}
	m.dbs["test"] = newDatabase("test")
	return m
}

// globalOpts are the global optional arguments a query may carry.
var globalOpts = []string{"db", "noreply", "durability", "read_mode", "array_limit",
	"time_format", "binary_format", "group_format", "profile", "min_batch_rows",
	"max_batch_rows", "max_batch_bytes", "max_batch_seconds", "first_batch_scaledown_factor",
	"changefeed_queue_size", "geometry_format", "use_outdated"}

// run evaluates one query; a write's changes go to w (see Run in
// persist.go, which waits for them to be on disk).
func (m *Memory) run(ctx context.Context, q Query, w *commitWait) (Result, error) {
	if bad, ok := q.Term.(BadJSON); ok {
		return Result{}, ErrClient("Failed to parse query: %v.", bad.Err)
	}
	term, err := parseTerm(q.Term, 0)
	if err != nil {
		return Result{}, err
	}
	writes, err := check(term)
	if err != nil {
		return Result{}, err
	}
	dbName := "test"
	queueSize := 0
	for k, o := range q.GlobalOpts {
		if !contains(globalOpts, k) {
			return Result{}, ErrCompile("Unrecognized global optional argument `%s`.", k)
		}
		if k == "profile" && o != false {
			return Result{}, ErrUnsupported("The global optional argument `profile`")
		}
		if k == "changefeed_queue_size" {
			if queueSize, err = parseQueueSize(o); err != nil {
				return Result{}, err
			}
		}
		if k != "db" {
			continue
		}
		if bad, ok := o.(BadJSON); ok {
			return Result{}, ErrClient("Failed to parse global optional argument `db`: %v.", bad.Err)
		}
		ot, err := parseTerm(o, 0)
		if err != nil {
			return Result{}, err
		}
		if ot.Type != ql2.Term_DB || len(ot.Args) != 1 || ot.Args[0].Type != ql2.Term_DATUM {
			return Result{}, ErrQueryLogic("Expected type DATABASE for the global optional argument `db`.")
		}
		name, ok := ot.Args[0].Datum.(string)
		if !ok {
			return Result{}, expected("STRING", ot.Args[0].Datum)
		}
		dbName = name
	}

	if writes {
		if err := m.writable(); err != nil {
			return Result{}, err
		}
		m.mu.Lock()
		m.beginWrite(w)
		defer m.endWrite(w) // logs the query's changes, then unlocks
	} else {
		m.mu.RLock()
		defer m.mu.RUnlock()
	}
	ec := &evalCtx{
		ctx:                 ctx,
		m:                   m,
		now:                 float64(m.Now().UnixMilli()) / 1000,
		db:                  dbName,
		changefeedQueueSize: queueSize,
	}
	v, err := ec.eval(term)
	// A feed the query opened but does not return (it failed afterwards)
	// would otherwise stay registered on its table for ever.
	ec.abandonFeeds(v)
	if err != nil {
		return Result{}, err
	}
	if f, ok := v.(Feed); ok {
		return Result{Kind: Stream, Feed: f}, nil
	}
	d, err := ec.toDatum(v)
	if err != nil {
		return Result{}, err
	}
	if err := writableResult(d); err != nil {
		return Result{}, err
	}
	// A sequence goes out as SUCCESS_SEQUENCE unless it is an array in
	// disguise, which RethinkDB sends as SUCCESS_ATOM (query_cache.cc:
	// seq->as_array).
	switch x := v.(type) {
	case *tableVal:
		return Result{Kind: Sequence, Seq: d.([]any)}, nil
	case *streamVal:
		if !x.array {
			return Result{Kind: Sequence, Seq: d.([]any)}, nil
		}
	}
	return Result{Kind: Atom, Atom: d}, nil
}

// writableResult fails as RethinkDB fails to send a result holding
// r.minval or r.maxval: datum_t::write_json refuses them, and
// write_response_internal (json.cc) answers that with a QUERY_LOGIC runtime
// error and an empty backtrace. The first one in the order the result is
// written (arrays in order, objects by key) names the error.
func writableResult(d any) error {
	switch x := d.(type) {
	case minVal:
		return ErrQueryLogic("Cannot convert `r.minval` to JSON.")
	case maxVal:
		return ErrQueryLogic("Cannot convert `r.maxval` to JSON.")
	case []any:
		for _, e := range x {
			if err := writableResult(e); err != nil {
				return err
			}
		}
	case map[string]any:
		if !hasMinMax(x) {
			return nil
		}
		for _, k := range sortedKeys(x) {
			if err := writableResult(x[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseQueueSize reads the changefeed_queue_size global optional argument,
// which bounds every feed the query opens unless changes sets its own.
func parseQueueSize(v any) (int, error) {
	if bad, ok := v.(BadJSON); ok {
		return 0, ErrClient("Failed to parse global optional argument `changefeed_queue_size`: %v.", bad.Err)
	}
	n, ok := v.(float64)
	if !ok {
		return 0, expected("NUMBER", v)
	}
	i, err := checkedInt(n)
	if err != nil {
		return 0, err
	}
	if i < 1 {
		return 0, ErrQueryLogic("Illegal changefeed queue size `%d`.  (Must be >= 1.)", i)
	}
	return int(min(i, 1<<31)), nil
}

var _ Engine = (*Memory)(nil)
