package reql

import (
	"context"
	"sync"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Transformations after changes: changes().filter(...), .map(...),
// .pluck(...), ('field'), .without(...), .merge(...), .has_fields(...). A
// changefeed is an eager stream in RethinkDB 2.4 (changefeed.cc: stream_t
// extends eager_datum_stream_t), and eager_datum_stream_t::add_transformation
// applies a transformation to every document the feed sends: the changes,
// and also the state documents ({state: "ready"}) and initial values
// ({new_val}) include_states and include_initial add, and the overflow
// error document. A transformation that fails on a document (r.row('new_val')
// of a state document) ends the feed with that error, as a failing batch
// ends a RethinkDB stream; filter drops a document whose predicate finds a
// field missing, and get_field/bracket skip one without the field, as they
// do on any stream.

// errInfiniteTerminal is what a terminal (count, an in-memory order_by,
// ...) on a changefeed meets: stream_t::next_raw_batch's check of a
// TERMINAL batch (changefeed.cc).
var errInfiniteTerminal = ErrQueryLogic("Cannot call a terminal (`reduce`, `count`, etc.) on an infinite stream (such as a changefeed).")

// errFeedTerm refuses a term on a changefeed that is not one of the
// transformations above; name "" is any term.
func errFeedTerm(name string) *Error {
	what := "This term"
	if name != "" {
		what = "`" + name + "`"
	}
	return ErrUnsupported(what + " after `changes` (supported there: `filter`, `map`, " +
		"`get_field`, `bracket`, `pluck`, `without`, `merge`, `has_fields`)")
}

// transformedFeed is a feed whose documents pass through fn.
type transformedFeed struct {
	inner Feed
	m     *Memory
	// ec is the evaluation context of the query that made the feed: fn
	// evaluates its terms in it, in the variables where it was written.
	ec    *evalCtx
	scope lazyScope
	fn    func(row any) (keep bool, out any, err error)

	mu  sync.Mutex // one Next at a time
	err error      // the error that ended the feed
}

// transformFeed wraps f, which the query just made: fn runs later, on each
// batch Next reads, under the engine's lock (the functions may read
// tables, or even write to them).
func (ec *evalCtx) transformFeed(f Feed, fn func(row any) (bool, any, error)) Feed {
	return &transformedFeed{inner: f, m: ec.m, ec: ec, scope: ec.captureScope(), fn: fn}
}

// Notes implements Feed: a transformed feed is still the same kind of feed.
func (tf *transformedFeed) Notes() []ql2.Response_ResponseNote { return tf.inner.Notes() }

// Next implements Feed.
func (tf *transformedFeed) Next(ctx context.Context, wait bool) ([]any, error) {
	tf.mu.Lock()
	defer tf.mu.Unlock()
	if tf.err != nil {
		return nil, tf.err
	}
	for {
		batch, err := tf.inner.Next(ctx, wait)
		if err != nil {
			return nil, err
		}
		out, err := tf.apply(ctx, batch)
		if err != nil {
			tf.err = err
			tf.inner.Close()
			return nil, err
		}
		if len(out) > 0 || !wait {
			return out, nil
		}
	}
}

func (tf *transformedFeed) apply(ctx context.Context, batch []any) ([]any, error) {
	if len(batch) == 0 {
		return batch, nil
	}
	tf.m.mu.Lock()
	defer tf.m.mu.Unlock()
	tf.ec.ctx = ctx
	out := make([]any, 0, len(batch))
	err := tf.ec.inScope(tf.scope, func() error {
		for _, doc := range batch {
			keep, v, err := tf.fn(doc)
			if err != nil {
				return err
			}
			if keep {
				out = append(out, v)
			}
		}
		return nil
	})
	return out, err
}

// Close implements Feed.
func (tf *transformedFeed) Close() { tf.inner.Close() }

// baseFeed is the feed under every transformation.
func (tf *transformedFeed) baseFeed() Feed {
	var f Feed = tf
	for {
		t, ok := f.(*transformedFeed)
		if !ok {
			return f
		}
		f = t.inner
	}
}

var _ Feed = (*transformedFeed)(nil)
