package reql

import (
	"container/list"
	"context"
	"fmt"
	"iter"
	"sync"
	"time"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Changefeeds, as RethinkDB 2.4 sends them (src/rdb_protocol/changefeed.cc):
// a table feed, a point feed (get(id).changes()) and a top-N feed
// (order_by({index}).limit(n).changes(), on a table or a between). Each feed
// is a table observer registered inside Run under the engine's write lock, so
// the initial values it sends and the changes it then sees meet exactly: no
// write is missed or sent twice. Observers are called under that lock in
// commit order; they only buffer and signal, never block. Next drains the
// buffer from the connection's goroutine.

func feedTerms(reg termTable) {
	reg.add(ql2.Term_CHANGES, termDef{fn: changesTerm, minArgs: 1, maxArgs: 1,
		opts: []string{"squash", "changefeed_queue_size", "include_initial",
			"include_states", "include_offsets", "include_types"},
		// Registering a feed changes the table's observers: it takes the
		// write lock so that two feeds opened at once cannot race.
		writes: true})
}

const (
	// defaultChangefeedQueueSize is RethinkDB's default changefeed_queue_size.
	defaultChangefeedQueueSize = 100000
	// feedBatchMax bounds one response, so that a large backlog (a big
	// table's initial values) goes out in several.
	feedBatchMax = 10000
)

// feedOptions are the optional arguments of changes.
type feedOptions struct {
	squash         bool
	squashInterval time.Duration
	queueSize      int
	includeInitial bool
	includeStates  bool
	includeTypes   bool
	includeOffsets bool
}

func (ec *evalCtx) feedOptions(t *Term) (feedOptions, error) {
	o := feedOptions{queueSize: defaultChangefeedQueueSize}
	if ec.changefeedQueueSize > 0 {
		o.queueSize = ec.changefeedQueueSize
	}
	if st, ok := t.Opts["squash"]; ok {
		v, err := ec.datum(st)
		if err != nil {
			return o, err
		}
		switch x := v.(type) {
		case bool:
			o.squash = x
		case float64:
			if x < 0 {
				return o, ErrQueryLogic("Expected BOOL or a positive NUMBER but found a negative NUMBER.")
			}
			// Any number squashes; a positive one also waits that many
			// seconds between batches.
			o.squash = true
			o.squashInterval = time.Duration(x * float64(time.Second))
		default:
			return o, ErrQueryLogic("Expected BOOL or NUMBER but found %s.", TypeName(v))
		}
	}
	if qt, ok := t.Opts["changefeed_queue_size"]; ok {
		n, err := ec.integer(qt)
		if err != nil {
			return o, err
		}
		if n < 1 {
			return o, ErrQueryLogic("Illegal changefeed queue size `%d`.  (Must be >= 1.)", n)
		}
		o.queueSize = n
	}
	for name, dst := range map[string]*bool{
		"include_initial": &o.includeInitial,
		"include_states":  &o.includeStates,
		"include_types":   &o.includeTypes,
		"include_offsets": &o.includeOffsets,
	} {
		if ot, ok := t.Opts[name]; ok {
			b, err := ec.truthy(ot)
			if err != nil {
				return o, err
			}
			*dst = b
		}
	}
	return o, nil
}

func changesTerm(ec *evalCtx, t *Term) (any, error) {
	opts, err := ec.feedOptions(t)
	if err != nil {
		return nil, err
	}
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	if tb := selectionTable(v); tb != nil && tb.system != "" {
		return nil, errSystemTableOp("changes", tb)
	}
	var f *changeFeed
	switch x := v.(type) {
	case *tableVal:
		if opts.includeOffsets {
			return nil, ErrQueryLogic("Cannot include offsets for range subs.")
		}
		f = newTableFeed(ec, x.t, opts)
	case *singleVal:
		if opts.includeOffsets {
			return nil, ErrQueryLogic("Cannot include offsets for point subs.")
		}
		f = newPointFeed(ec, x.t, x.pk, opts)
	case *streamVal:
		if x.sliced == slicedThenMapped {
			return nil, ErrQueryLogic("Changefeeds are not supported on queries that have a transformation" +
				" following a `limit` term.  Transformations include terms such as " +
				"`filter`, `map`, `pluck`, etc.  Consider moving the transformation " +
				"before the `limit` term.")
		}
		if x.getAll != nil {
			if opts.includeOffsets {
				return nil, ErrQueryLogic("Cannot include offsets for range subs.")
			}
			if f, err = newGetAllFeed(ec, x, opts); err != nil {
				return nil, err
			}
			break
		}
		if isTableSlice(x) && !x.rng.ordered {
			if opts.includeOffsets {
				return nil, ErrQueryLogic("Cannot include offsets for range subs.")
			}
			if f, err = newRangeFeed(ec, x.table, *x.rng, opts); err != nil {
				return nil, err
			}
			break
		}
		if x.array {
			// An in-memory sort is an eager stream (datum_stream.hpp).
			return nil, ErrQueryLogic("Cannot call `changes` on an eager stream.")
		}
		if x.table == nil || x.rng == nil || x.rng.limit < 0 {
			return nil, ErrUnsupported("`changes` on this stream (supported: a table, `get`, `between`, " +
				"and `order_by({index}).limit(n)` of a table or `between`)")
		}
		if !x.rng.ordered {
			return nil, ErrQueryLogic("Cannot get changes on the first elements of an unordered stream.")
		}
		if x.rng.limit > arrayLimit {
			return nil, errRuntime(ql2.Response_RESOURCE_LIMIT,
				"Array size limit `%d` exceeded.  (`.limit(X).changes()` is illegal if X is larger than the array size limit.)", arrayLimit)
		}
		if f, err = newTopNFeed(ec, x.table, *x.rng, opts); err != nil {
			return nil, err
		}
	case Feed, []any:
		// A changefeed is an eager stream (changefeed.cc: stream_t), and so
		// is an array (datum_stream.hpp: get_changespecs).
		return nil, ErrQueryLogic("Cannot call `changes` on an eager stream.")
	default:
		if isDatumValue(v) {
			// val_t::as_seq of a datum that is no array.
			return nil, typedError(v, "Cannot convert %s to SEQUENCE", TypeName(v))
		}
		return nil, ErrUnsupported("`changes` on " + typeName(v) +
			" (supported: a table, `get`, `between`, and `order_by({index}).limit(n)` of a table or `between`)")
	}
	ec.feeds = append(ec.feeds, f)
	return f, nil
}

// abandonFeeds releases the feeds a query opened but does not return (it
// failed after opening them). Run calls it, still holding the lock.
func (ec *evalCtx) abandonFeeds(keep any) {
	if tf, ok := keep.(*transformedFeed); ok {
		keep = tf.baseFeed()
	}
	for _, f := range ec.feeds {
		if any(f) != keep {
			f.closeLocked()
		}
	}
	ec.feeds = nil
}

// feedChange is one buffered change: old and new are documents or nil.
type feedChange struct {
	key      string // the document's primary key, printed, for squashing
	old, new any
	// oldOffset and newOffset are a top-N feed's ranks (include_offsets):
	// a float64 from 0 for the best, or nil.
	oldOffset, newOffset any
}

// changeFeed is the buffer and the Feed behind every kind of feed; the kinds
// differ in which commits they turn into changes.
type changeFeed struct {
	m     *Memory
	table *Table
	obs   *observer
	notes []ql2.Response_ResponseNote
	opts  feedOptions
	// coalesce squashes a top-N feed at read time (see takeLocked); table
	// and point feeds squash per key as changes arrive.
	coalesce bool

	mu sync.Mutex
	// head holds the state and initial documents, sent before any change
	// and not counted against the queue size.
	head  []any
	queue *list.List // of *feedChange, in commit order
	// byKey indexes queue by document key while squashing; keyed, set once
	// at creation, says so without the lock (observers run under the
	// engine's lock, not the feed's).
	byKey map[string]*list.Element
	keyed bool
	// skipped counts changes dropped on overflow, reported before any more.
	skipped  int
	midBatch bool
	err      error // why the feed ended (the table went away)
	closed   bool
	// notify wakes a waiting Next; done is closed when the feed ends or is
	// closed; nearlyFull cuts a squash wait short.
	notify     chan struct{}
	nearlyFull chan struct{}
	done       chan struct{}
	doneClosed bool
}

func newChangeFeed(ec *evalCtx, t *Table, opts feedOptions, kind ql2.Response_ResponseNote) *changeFeed {
	f := &changeFeed{
		m:          ec.m,
		table:      t,
		opts:       opts,
		notes:      []ql2.Response_ResponseNote{kind},
		queue:      list.New(),
		notify:     make(chan struct{}, 1),
		nearlyFull: make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
	if opts.includeStates {
		f.notes = append(f.notes, ql2.Response_INCLUDES_STATES)
	}
	if opts.squash && kind != ql2.Response_ORDER_BY_LIMIT_FEED {
		f.byKey = map[string]*list.Element{}
		f.keyed = true
	}
	f.coalesce = opts.squash && kind == ql2.Response_ORDER_BY_LIMIT_FEED
	return f
}

// subscribe registers the feed's observer; the caller holds the write lock.
// index is the secondary index the feed reads, "" for none.
func (f *changeFeed) subscribe(index string, onChange func(old, new map[string]any)) {
	f.obs = &observer{
		onChange: onChange,
		onDrop: func() {
			f.end(ErrOpFailed("Changefeed aborted (unavailable)."))
		},
		index: index,
		onIndexGone: func() {
			f.end(ErrUnsupported("Dropping or renaming the index an open changefeed reads"))
		},
	}
	f.table.observe(f.obs)
}

// startHead queues what a feed sends before any change: with
// include_initial the initializing state and the initial values, then with
// include_states the ready state.
func (f *changeFeed) startHead(initial iter.Seq[any]) {
	if f.opts.includeInitial {
		if f.opts.includeStates {
			f.head = append(f.head, f.stateDoc("initializing"))
		}
		rank := 0
		for doc := range initial {
			d := f.initialDoc(doc)
			if f.opts.includeOffsets {
				// Only a top-N feed takes include_offsets: its initial
				// values come best first (limit_sub_t::maybe_start).
				d["new_offset"] = float64(rank)
				rank++
			}
			f.head = append(f.head, d)
		}
	}
	if f.opts.includeStates {
		f.head = append(f.head, f.stateDoc("ready"))
	}
}

// feedIndex is the secondary index a range or top-N feed reads, nil for
// the primary key. what names the feed in the refusal of a multi index.
func feedIndex(t *Table, rng rangeSpec, what string) (*index, error) {
	if rng.index == t.primaryKey {
		return nil, nil
	}
	ix, ok := t.indexes[rng.index]
	if !ok {
		return nil, ErrOpFailed("Index `%s` was not found on table `%s`.", rng.index, t.FullName())
	}
	if ix.multi {
		return nil, ErrUnsupported(what + " on a multi index")
	}
	return ix, nil
}

// feedEvalCtx evaluates index functions for a feed after its query is
// done, so not under the query's context.
func feedEvalCtx(ec *evalCtx) *evalCtx {
	return &evalCtx{ctx: context.Background(), m: ec.m, now: ec.now, db: ec.db}
}

func (f *changeFeed) stateDoc(state string) map[string]any {
	d := map[string]any{"state": state}
	if f.opts.includeTypes {
		d["type"] = "state"
	}
	return d
}

func (f *changeFeed) initialDoc(doc any) map[string]any {
	d := map[string]any{"new_val": doc}
	if f.opts.includeTypes {
		d["type"] = "initial"
	}
	return d
}

// changeDoc is a change as RethinkDB sends it; with include_types an
// insert is "add", a delete "remove", anything else "change".
func (f *changeFeed) changeDoc(c *feedChange) map[string]any {
	d := map[string]any{"old_val": c.old, "new_val": c.new}
	if f.opts.includeOffsets {
		// vals_to_change: each offset beside its value, null when none.
		d["old_offset"], d["new_offset"] = c.oldOffset, c.newOffset
	}
	if f.opts.includeTypes {
		switch {
		case c.old == nil:
			d["type"] = "add"
		case c.new == nil:
			d["type"] = "remove"
		default:
			d["type"] = "change"
		}
	}
	return d
}

// push buffers a change; it is called under the engine's write lock and
// must not block.
func (f *changeFeed) push(c feedChange) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.err != nil {
		return
	}
	if e, ok := f.byKey[c.key]; ok && f.byKey != nil {
		// Squashing: the pending change keeps its place and its old value
		// and takes the new value; if that undoes it, it goes away.
		p := e.Value.(*feedChange)
		p.new = c.new
		if (p.old == nil && p.new == nil) || (p.old != nil && p.new != nil && Equal(p.old, p.new)) {
			f.queue.Remove(e)
			delete(f.byKey, c.key)
		}
	} else {
		e := f.queue.PushBack(&c)
		if f.byKey != nil {
			f.byKey[c.key] = e
		}
	}
	if f.queue.Len() > f.opts.queueSize {
		// As RethinkDB: drop the whole backlog and say how much was lost.
		f.skipped += f.queue.Len()
		f.queue.Init()
		if f.byKey != nil {
			clear(f.byKey)
		}
	} else if f.queue.Len() > f.opts.queueSize/2 {
		signal(f.nearlyFull)
	}
	signal(f.notify)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// end stops the feed with err once its buffer is drained.
func (f *changeFeed) end(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil {
		f.err = err
	}
	f.closeDoneLocked()
	signal(f.notify)
}

func (f *changeFeed) closeDoneLocked() {
	if !f.doneClosed {
		f.doneClosed = true
		close(f.done)
	}
}

// Notes implements Feed.
func (f *changeFeed) Notes() []ql2.Response_ResponseNote { return f.notes }

// Next implements Feed.
func (f *changeFeed) Next(ctx context.Context, wait bool) ([]any, error) {
	if wait && f.opts.squashInterval > 0 && !f.isMidBatch() {
		// A numeric squash collects changes for that long before sending,
		// unless the queue is filling up.
		timer := time.NewTimer(f.opts.squashInterval)
		select {
		case <-timer.C:
		case <-f.nearlyFull:
		case <-f.done:
		case <-ctx.Done():
			timer.Stop()
			return nil, interrupted(ctx)
		}
		timer.Stop()
	}
	for {
		f.mu.Lock()
		if f.closed {
			f.mu.Unlock()
			return nil, ErrFeedClosed
		}
		if out := f.takeLocked(); len(out) > 0 {
			f.mu.Unlock()
			return out, nil
		}
		if f.err != nil {
			err := f.err
			f.mu.Unlock()
			return nil, err
		}
		f.mu.Unlock()
		if !wait {
			return []any{}, nil
		}
		select {
		case <-f.notify:
		case <-ctx.Done():
			return nil, interrupted(ctx)
		}
	}
}

func interrupted(ctx context.Context) error {
	return ErrOpFailed("Changefeed interrupted: %v.", context.Cause(ctx))
}

func (f *changeFeed) isMidBatch() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.midBatch
}

// takeLocked takes the next batch: the overflow error on its own, or the
// head and then the changes, at most feedBatchMax.
func (f *changeFeed) takeLocked() []any {
	if f.skipped > 0 {
		out := []any{map[string]any{"error": fmt.Sprintf(
			"Changefeed cache over array size limit, skipped %d elements.", f.skipped)}}
		f.skipped = 0
		return out
	}
	if f.coalesce {
		f.coalesceLocked()
	}
	n := min(len(f.head)+f.queue.Len(), feedBatchMax)
	if n == 0 {
		return nil
	}
	out := make([]any, 0, n)
	k := min(len(f.head), n)
	out = append(out, f.head[:k]...)
	f.head = f.head[k:]
	for len(out) < n {
		e := f.queue.Front()
		c := f.queue.Remove(e).(*feedChange)
		if f.byKey != nil {
			delete(f.byKey, c.key)
		}
		out = append(out, f.changeDoc(c))
	}
	f.midBatch = len(f.head)+f.queue.Len() > 0
	return out
}

// coalesceLocked squashes a top-N feed's pending changes as RethinkDB's
// limit_sub_t::apply_queued_changes does: a change whose old value is the
// new value of an earlier one extends it, and changes that end where they
// began are dropped.
func (f *changeFeed) coalesceLocked() {
	var kept []*feedChange
	for e := f.queue.Front(); e != nil; e = e.Next() {
		c := e.Value.(*feedChange)
		merged := false
		for _, k := range kept {
			if sameDoc(k.new, c.old) {
				// Only the value: RethinkDB keeps the first change's
				// new_offset (apply_queued_changes sets new_d alone).
				k.new = c.new
				merged = true
				break
			}
		}
		if !merged {
			cc := *c
			kept = append(kept, &cc)
		}
	}
	f.queue.Init()
	for _, c := range kept {
		if (c.old == nil && c.new == nil) ||
			(c.old != nil && c.new != nil && Equal(c.old, c.new) && c.oldOffset == c.newOffset) {
			continue
		}
		f.queue.PushBack(c)
	}
}

func sameDoc(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return Equal(a, b)
}

// Close implements Feed: it unregisters the observer, which needs the
// engine's write lock. It must not be called with that lock held (Run uses
// closeLocked).
func (f *changeFeed) Close() {
	if !f.markClosed() {
		return
	}
	f.m.mu.Lock()
	f.table.unobserve(f.obs)
	f.m.mu.Unlock()
}

func (f *changeFeed) closeLocked() {
	if f.markClosed() {
		f.table.unobserve(f.obs)
	}
}

// markClosed reports whether this call closed the feed.
func (f *changeFeed) markClosed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.closed = true
	f.head, f.byKey = nil, nil
	f.queue.Init()
	f.closeDoneLocked()
	signal(f.notify)
	return true
}

var _ Feed = (*changeFeed)(nil)

// newTableFeed follows every write to t. With include_initial it first sends
// every document, in primary key order.
func newTableFeed(ec *evalCtx, t *Table, opts feedOptions) *changeFeed {
	f := newChangeFeed(ec, t, opts, ql2.Response_SEQUENCE_FEED)
	f.startHead(func(yield func(any) bool) {
		t.rows.Ascend(func(e docEntry) bool { return yield(e.doc) })
	})
	pkName := t.primaryKey
	f.subscribe("", func(old, new map[string]any) {
		c := feedChange{old: nullable(old), new: nullable(new)}
		if f.keyed {
			doc := old
			if doc == nil {
				doc = new
			}
			c.key = Print(doc[pkName])
		}
		f.push(c)
	})
	return f
}

// newPointFeed follows the document with primary key pk. With
// include_initial it first sends its current value, {new_val: null} when
// there is none.
func newPointFeed(ec *evalCtx, t *Table, pk any, opts feedOptions) *changeFeed {
	f := newChangeFeed(ec, t, opts, ql2.Response_ATOM_FEED)
	f.startHead(func(yield func(any) bool) { yield(nullable(t.Get(pk))) })
	pkName := t.primaryKey
	key := Print(pk)
	f.subscribe("", func(old, new map[string]any) {
		doc := old
		if doc == nil {
			doc = new
		}
		if !Equal(doc[pkName], pk) {
			return
		}
		f.push(feedChange{key: key, old: nullable(old), new: nullable(new)})
	})
	return f
}

// newRangeFeed follows the rows of t whose index value is in rng
// (between(...).changes()). As RethinkDB, a row moving into the range is
// {old_val: null, new_val: row}, out of it {old_val: row, new_val: null}.
// With include_initial it first sends the rows in the range, in index order.
func newRangeFeed(ec *evalCtx, t *Table, rng rangeSpec, opts feedOptions) (*changeFeed, error) {
	// The range is a top-N without a limit and without an order.
	rng.limit = -1
	ix, err := feedIndex(t, rng, "`between(...).changes()`")
	if err != nil {
		return nil, err
	}
	f := newChangeFeed(ec, t, opts, ql2.Response_SEQUENCE_FEED)
	tn := &topNFeed{changeFeed: f, pkName: t.primaryKey, rng: rng, ix: ix, ec: feedEvalCtx(ec)}
	f.startHead(func(yield func(any) bool) {
		for _, it := range tn.read() {
			if !yield(it.doc) {
				return
			}
		}
	})
	f.subscribe(tn.indexName(), func(old, new map[string]any) {
		c := feedChange{}
		if old != nil {
			if _, in := tn.candidate(old); in {
				c.old = old
			}
		}
		if new != nil {
			if _, in := tn.candidate(new); in {
				c.new = new
			}
		}
		if c.old == nil && c.new == nil {
			return
		}
		doc := old
		if doc == nil {
			doc = new
		}
		c.key = Print(doc[t.primaryKey])
		f.push(c)
	})
	return f, nil
}
