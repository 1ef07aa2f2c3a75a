package reql

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// openFeed runs a changes query and closes the feed when the test ends.
func openFeed(t *testing.T, m *Memory, query string) Feed {
	t.Helper()
	res, err := run(t, m, query)
	require.NoError(t, err, query)
	require.Equal(t, Stream, res.Kind)
	t.Cleanup(res.Feed.Close)
	return res.Feed
}

// nextBatch is Feed.Next with a deadline, so a missing change fails the
// test instead of hanging it.
func nextBatch(t *testing.T, f Feed, wait bool) []any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	out, err := f.Next(ctx, wait)
	require.NoError(t, err)
	return out
}

// collect waits until n documents have arrived.
func collect(t *testing.T, f Feed, n int) []any {
	t.Helper()
	var out []any
	for len(out) < n {
		out = append(out, nextBatch(t, f, true)...)
	}
	require.Len(t, out, n, "more documents than expected")
	return out
}

func mustRun(t *testing.T, m *Memory, query string) {
	t.Helper()
	_, err := run(t, m, query)
	require.NoError(t, err, query)
}

func TestFeedNotesAndFirstBatch(t *testing.T) {
	a := obj("id", "a", "score", 1.0)
	tests := []struct {
		name  string
		query string
		notes []ql2.Response_ResponseNote
		first []any
	}{
		{"table", `[152,[` + playersTable + `]]`, []ql2.Response_ResponseNote{1}, []any{}},
		{"table with states", `[152,[` + playersTable + `],{"include_states":true}]`,
			[]ql2.Response_ResponseNote{1, 5}, []any{obj("state", "ready")}},
		{"table with initial", `[152,[` + playersTable + `],{"include_initial":true}]`,
			[]ql2.Response_ResponseNote{1}, []any{obj("new_val", a)}},
		{"table with initial, states and types",
			`[152,[` + playersTable + `],{"include_initial":true,"include_states":true,"include_types":true}]`,
			[]ql2.Response_ResponseNote{1, 5}, []any{
				obj("state", "initializing", "type", "state"),
				obj("new_val", a, "type", "initial"),
				obj("state", "ready", "type", "state"),
			}},
		{"point", `[152,[[16,[` + playersTable + `,"a"]]]]`, []ql2.Response_ResponseNote{2}, []any{}},
		// The transcript's point feed: the current value first.
		{"point with initial", `[152,[[16,[` + playersTable + `,"a"]]],{"include_initial":true}]`,
			[]ql2.Response_ResponseNote{2}, []any{obj("new_val", a)}},
		{"point with initial on a missing document", `[152,[[16,[` + playersTable + `,"zz"]]],{"include_initial":true}]`,
			[]ql2.Response_ResponseNote{2}, []any{obj("new_val", nil)}},
		{"point with initial and states", `[152,[[16,[` + playersTable + `,"a"]]],{"include_initial":true,"include_states":true}]`,
			[]ql2.Response_ResponseNote{2, 5}, []any{obj("state", "initializing"), obj("new_val", a), obj("state", "ready")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := writeTestEngine(t, a)
			f := openFeed(t, m, tt.query)
			assert.Equal(t, tt.notes, f.Notes())
			assert.Equal(t, tt.first, nextBatch(t, f, false))
		})
	}
}

func TestTableFeedChanges(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a", "score", 1.0))
	f := openFeed(t, m, `[152,[`+playersTable+`],{"include_types":true}]`)
	mustRun(t, m, `[56,[`+playersTable+`,{"id":"b","score":2}]]`)
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"a"]],{"score":3}]]`)
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"a"]],{"score":3}]]`) // unchanged: no change
	mustRun(t, m, `[54,[[16,[`+playersTable+`,"b"]]]]`)
	assert.Equal(t, []any{
		obj("old_val", nil, "new_val", obj("id", "b", "score", 2.0), "type", "add"),
		obj("old_val", obj("id", "a", "score", 1.0), "new_val", obj("id", "a", "score", 3.0), "type", "change"),
		obj("old_val", obj("id", "b", "score", 2.0), "new_val", nil, "type", "remove"),
	}, collect(t, f, 3))
}

func TestPointFeedSeesOnlyItsDocument(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a", "score", 1.0), obj("id", "b", "score", 1.0))
	f := openFeed(t, m, `[152,[[16,[`+playersTable+`,"a"]]]]`)
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"b"]],{"score":2}]]`)
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"a"]],{"score":2}]]`)
	mustRun(t, m, `[54,[[16,[`+playersTable+`,"a"]]]]`)
	assert.Equal(t, []any{
		obj("old_val", obj("id", "a", "score", 1.0), "new_val", obj("id", "a", "score", 2.0)),
		obj("old_val", obj("id", "a", "score", 2.0), "new_val", nil),
	}, collect(t, f, 2))
}

func TestFeedSquash(t *testing.T) {
	doc := func(id string, score float64) map[string]any { return obj("id", id, "score", score) }
	tests := []struct {
		name   string
		squash string
		writes []string
		want   []any
	}{
		{
			name:   "no squash",
			squash: "false",
			writes: []string{`[53,[[16,[` + playersTable + `,"a"]],{"score":2}]]`, `[53,[[16,[` + playersTable + `,"a"]],{"score":3}]]`},
			want: []any{
				obj("old_val", doc("a", 1), "new_val", doc("a", 2)),
				obj("old_val", doc("a", 2), "new_val", doc("a", 3)),
			},
		},
		{
			name:   "squash keeps the first old value and the last new one",
			squash: "true",
			writes: []string{
				`[53,[[16,[` + playersTable + `,"a"]],{"score":2}]]`,
				`[53,[[16,[` + playersTable + `,"b"]],{"score":5}]]`,
				`[53,[[16,[` + playersTable + `,"a"]],{"score":3}]]`,
			},
			want: []any{
				obj("old_val", doc("a", 1), "new_val", doc("a", 3)),
				obj("old_val", doc("b", 1), "new_val", doc("b", 5)),
			},
		},
		{
			name:   "squashed insert and delete cancel out",
			squash: "true",
			writes: []string{
				`[56,[` + playersTable + `,{"id":"n"}]]`,
				`[53,[[16,[` + playersTable + `,"a"]],{"score":2}]]`,
				`[54,[[16,[` + playersTable + `,"n"]]]]`,
			},
			want: []any{obj("old_val", doc("a", 1), "new_val", doc("a", 2))},
		},
		{
			name:   "squashed change back to the old value vanishes",
			squash: "true",
			writes: []string{
				`[53,[[16,[` + playersTable + `,"a"]],{"score":2}]]`,
				`[53,[[16,[` + playersTable + `,"a"]],{"score":1}]]`,
				`[53,[[16,[` + playersTable + `,"b"]],{"score":2}]]`,
			},
			want: []any{obj("old_val", doc("b", 1), "new_val", doc("b", 2))},
		},
		{
			name:   "a numeric squash waits, then sends the squashed changes",
			squash: "0.01",
			writes: []string{`[53,[[16,[` + playersTable + `,"a"]],{"score":2}]]`, `[53,[[16,[` + playersTable + `,"a"]],{"score":3}]]`},
			want:   []any{obj("old_val", doc("a", 1), "new_val", doc("a", 3))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := writeTestEngine(t, doc("a", 1), doc("b", 1))
			f := openFeed(t, m, `[152,[`+playersTable+`],{"squash":`+tt.squash+`}]`)
			for _, w := range tt.writes {
				mustRun(t, m, w)
			}
			assert.Equal(t, tt.want, nextBatch(t, f, true))
		})
	}
}

func TestFeedOverflow(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a", "score", 0.0))
	f := openFeed(t, m, `[152,[`+playersTable+`],{"changefeed_queue_size":2}]`)
	for i := 1; i <= 3; i++ {
		mustRun(t, m, fmt.Sprintf(`[53,[[16,[`+playersTable+`,"a"]],{"score":%d}]]`, i))
	}
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"a"]],{"score":4}]]`)
	// As RethinkDB: the error document alone, then what came after.
	assert.Equal(t, []any{obj("error", "Changefeed cache over array size limit, skipped 3 elements.")}, nextBatch(t, f, true))
	assert.Equal(t, []any{obj("old_val", obj("id", "a", "score", 3.0), "new_val", obj("id", "a", "score", 4.0))}, nextBatch(t, f, true))
}

func TestFeedGlobalQueueSize(t *testing.T) {
	m, _ := writeTestEngine(t, obj("id", "a", "score", 0.0))
	res, err := m.Run(t.Context(), Query{
		Term:       decoded(`[152,[` + playersTable + `]]`),
		GlobalOpts: map[string]any{"changefeed_queue_size": 1.0},
	})
	require.NoError(t, err)
	t.Cleanup(res.Feed.Close)
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"a"]],{"score":1}]]`)
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"a"]],{"score":2}]]`)
	assert.Equal(t, []any{obj("error", "Changefeed cache over array size limit, skipped 2 elements.")}, nextBatch(t, res.Feed, true))
}

func TestFeedOptionErrors(t *testing.T) {
	tests := []struct {
		name, opts, msg string
	}{
		{"negative squash", `{"squash":-1}`, "Expected BOOL or a positive NUMBER but found a negative NUMBER."},
		{"string squash", `{"squash":"x"}`, "Expected BOOL or NUMBER but found STRING."},
		{"queue size 0", `{"changefeed_queue_size":0}`, "Illegal changefeed queue size `0`.  (Must be >= 1.)"},
		{"offsets on a table", `{"include_offsets":true}`, "Cannot include offsets for range subs."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, tb := writeTestEngine(t)
			_, err := run(t, m, `[152,[`+playersTable+`],`+tt.opts+`]`)
			var rerr *Error
			require.ErrorAs(t, err, &rerr)
			assert.Equal(t, tt.msg, rerr.Msg)
			assert.Empty(t, tb.observers)
		})
	}
}

func TestFeedAbortedByDrop(t *testing.T) {
	m, tb := writeTestEngine(t, obj("id", "a", "score", 0.0))
	f := openFeed(t, m, `[152,[[16,[`+playersTable+`,"a"]]]]`)
	mustRun(t, m, `[53,[[16,[`+playersTable+`,"a"]],{"score":1}]]`)
	m.mu.Lock()
	delete(tb.db.tables, tb.name)
	tb.drop()
	m.mu.Unlock()
	// What was committed before the drop is still delivered, then the error.
	assert.Len(t, nextBatch(t, f, true), 1)
	_, err := f.Next(t.Context(), true)
	var rerr *Error
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, ql2.Response_RUNTIME_ERROR, rerr.Response)
	assert.Equal(t, ql2.Response_OP_FAILED, rerr.Type)
	assert.Equal(t, "Changefeed aborted (unavailable).", rerr.Msg)
}

func TestFeedCloseUnregisters(t *testing.T) {
	m, tb := writeTestEngine(t)
	f := openFeed(t, m, `[152,[`+playersTable+`]]`)
	require.Len(t, tb.observers, 1)

	ctx, cancel := context.WithCancel(t.Context())
	waited := make(chan error)
	go func() {
		_, err := f.Next(ctx, true)
		waited <- err
	}()
	f.Close()
	assert.ErrorIs(t, <-waited, ErrFeedClosed, "Close wakes a waiting Next")
	cancel()
	assert.Empty(t, tb.observers)
	_, err := f.Next(t.Context(), false)
	assert.ErrorIs(t, err, ErrFeedClosed)
	f.Close() // idempotent
}

func TestFeedNextInterrupted(t *testing.T) {
	m, _ := writeTestEngine(t)
	f := openFeed(t, m, `[152,[`+playersTable+`]]`)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.Next(ctx, true)
	var rerr *Error
	require.ErrorAs(t, err, &rerr)
	assert.Contains(t, rerr.Msg, "interrupted")
}

func TestAbandonedFeedIsClosed(t *testing.T) {
	m, tb := writeTestEngine(t)
	// A feed inside an array cannot be returned: the query fails, and the
	// feed it opened must not stay registered.
	_, err := run(t, m, `[2,[[152,[`+playersTable+`]]]]`)
	require.Error(t, err)
	assert.Empty(t, tb.observers)
}

func TestTableFeedSeesEveryWriteInCommitOrder(t *testing.T) {
	const docs, writers, perWriter = 5, 10, 50
	var seed []map[string]any
	for d := range docs {
		seed = append(seed, obj("id", float64(d), "score", 0.0))
	}
	m, _ := writeTestEngine(t, seed...)
	f := openFeed(t, m, `[152,[`+playersTable+`]]`)

	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				// Each write reads the score and writes score+1 under the
				// lock; its value says where it is in the commit order.
				d := (w + i) % docs
				res, err := m.Run(context.Background(), Query{Term: decoded(
					fmt.Sprintf(`[53,[[16,[`+playersTable+`,%d]],[69,[[2,[1]],{"score":[24,[[31,[[10,[1]],"score"]],1]]}]]]]`, d))})
				if !assert.NoError(t, err) {
					return
				}
				assert.Equal(t, 1.0, res.Atom.(map[string]any)["replaced"])
			}
		}()
	}
	wg.Wait()
	got := collect(t, f, writers*perWriter)
	last := map[float64]float64{}
	for _, c := range got {
		nv := c.(map[string]any)["new_val"].(map[string]any)
		ov := c.(map[string]any)["old_val"].(map[string]any)
		id := nv["id"].(float64)
		assert.Equal(t, last[id], ov["score"], "doc %v", id)
		assert.Equal(t, last[id]+1, nv["score"], "doc %v", id)
		last[id] = nv["score"].(float64)
	}
}

// openTopNFeed opens a top-N feed over the primary index of tb, as
// order_by({index: "id"}).limit(limit).changes() does.
func openTopNFeed(t *testing.T, m *Memory, tb *Table, limit int, desc bool, opts feedOptions) Feed {
	t.Helper()
	if opts.queueSize == 0 {
		opts.queueSize = defaultChangefeedQueueSize
	}
	m.mu.Lock()
	ec := &evalCtx{ctx: t.Context(), m: m, db: "test"}
	f, err := newTopNFeed(ec, tb, rangeSpec{index: "id", lo: minVal{}, hi: maxVal{},
		ordered: true, desc: desc, limit: limit}, opts)
	m.mu.Unlock()
	require.NoError(t, err)
	t.Cleanup(f.Close)
	return f
}

func TestTopNFeed(t *testing.T) {
	d := func(id float64) map[string]any { return obj("id", id) }
	dv := func(id, v float64) map[string]any { return obj("id", id, "v", v) }
	ins := func(id int) string { return fmt.Sprintf(`[56,[`+playersTable+`,{"id":%d}]]`, id) }
	del := func(id int) string { return fmt.Sprintf(`[54,[[16,[`+playersTable+`,%d]]]]`, id) }
	upd := func(id, v int) string { return fmt.Sprintf(`[53,[[16,[`+playersTable+`,%d]],{"v":%d}]]`, id, v) }
	tests := []struct {
		name   string
		desc   bool
		limit  int
		writes []string
		want   []any
	}{
		{"a row displaces the last", false, 2, []string{ins(5)},
			[]any{obj("old_val", d(20), "new_val", d(5))}},
		{"a row below the top changes nothing, then one in it changes in place", false, 2, []string{ins(40), upd(10, 1)},
			[]any{obj("old_val", d(10), "new_val", dv(10, 1))}},
		{"a row leaves and the next one takes its place", false, 2, []string{del(10)},
			[]any{obj("old_val", d(10), "new_val", d(30))}},
		{"a row leaves with none to replace it", false, 3, []string{del(20)},
			[]any{obj("old_val", d(20), "new_val", nil)}},
		{"a row enters where there is room", false, 4, []string{ins(25)},
			[]any{obj("old_val", nil, "new_val", d(25))}},
		{"descending", true, 2, []string{ins(25), ins(5), del(30)},
			[]any{obj("old_val", d(20), "new_val", d(25)), obj("old_val", d(30), "new_val", d(20))}},
		{"limit 0 never changes", false, 0, []string{ins(1), ins(2)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, tb := writeTestEngine(t, d(10), d(20), d(30))
			f := openTopNFeed(t, m, tb, tt.limit, tt.desc, feedOptions{})
			for _, w := range tt.writes {
				mustRun(t, m, w)
			}
			// Observers run inside the commit: once the writes returned,
			// every change they caused is buffered.
			var got []any
			for {
				batch := nextBatch(t, f, false)
				if len(batch) == 0 {
					break
				}
				got = append(got, batch...)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTopNFeedInitial(t *testing.T) {
	m, tb := writeTestEngine(t, obj("id", 10.0), obj("id", 20.0), obj("id", 30.0))
	f := openTopNFeed(t, m, tb, 2, true, feedOptions{includeInitial: true, includeStates: true, includeTypes: true})
	assert.Equal(t, []ql2.Response_ResponseNote{3, 5}, f.Notes())
	assert.Equal(t, []any{
		obj("state", "initializing", "type", "state"),
		obj("new_val", obj("id", 30.0), "type", "initial"),
		obj("new_val", obj("id", 20.0), "type", "initial"),
		obj("state", "ready", "type", "state"),
	}, nextBatch(t, f, false))
	mustRun(t, m, `[56,[`+playersTable+`,{"id":40}]]`)
	assert.Equal(t, []any{obj("old_val", obj("id", 20.0), "new_val", obj("id", 40.0), "type", "change")}, nextBatch(t, f, true))
}

func TestTopNFeedSquash(t *testing.T) {
	m, tb := writeTestEngine(t, obj("id", 10.0), obj("id", 20.0), obj("id", 30.0))
	f := openTopNFeed(t, m, tb, 2, false, feedOptions{squash: true})
	// Two changes of 10 in place make one; 5 displacing 20 and leaving
	// again makes none.
	mustRun(t, m, `[53,[[16,[`+playersTable+`,10]],{"v":1}]]`)
	mustRun(t, m, `[56,[`+playersTable+`,{"id":5}]]`)
	mustRun(t, m, `[53,[[16,[`+playersTable+`,10]],{"v":2}]]`)
	mustRun(t, m, `[54,[[16,[`+playersTable+`,5]]]]`)
	assert.Equal(t, []any{
		obj("old_val", obj("id", 10.0), "new_val", obj("id", 10.0, "v", 2.0)),
	}, nextBatch(t, f, true))
}

func TestRangeFeed(t *testing.T) {
	m, tb := writeTestEngine(t, obj("id", 10.0), obj("id", 20.0))
	m.mu.Lock()
	ec := &evalCtx{ctx: t.Context(), m: m, db: "test"}
	f, err := newRangeFeed(ec, tb, rangeSpec{index: "id", lo: 10.0, hi: 20.0, limit: -1},
		feedOptions{includeInitial: true, includeTypes: true, queueSize: defaultChangefeedQueueSize})
	m.mu.Unlock()
	require.NoError(t, err)
	t.Cleanup(f.Close)
	assert.Equal(t, []ql2.Response_ResponseNote{1}, f.Notes())
	assert.Equal(t, []any{obj("new_val", obj("id", 10.0), "type", "initial")}, nextBatch(t, f, false),
		"20 is past the open right bound")

	mustRun(t, m, `[56,[`+playersTable+`,[2,[{"id":15},{"id":25},{"id":20,"x":1}]]],{"conflict":"update"}]`)
	mustRun(t, m, `[54,[[16,[`+playersTable+`,10]]]]`)
	assert.Equal(t, []any{
		obj("old_val", nil, "new_val", obj("id", 15.0), "type", "add"),
		obj("old_val", obj("id", 10.0), "new_val", nil, "type", "remove"),
	}, nextBatch(t, f, false))
}
