package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// heartbeatsTable holds one document per process that shows it is alive:
// {id, at: r.now() of the last beat, stale_after: seconds}.
const heartbeatsTable = "heartbeats"

// WorkerHeartbeat is the id the listener (dblistener) beats under.
const WorkerHeartbeat = "dblistener"

// Heartbeat is what the last beat of a process says, read with the
// database's clock so that clock skew between processes does not count.
type Heartbeat struct {
	ID string
	// Found is false when the process never beat.
	Found bool
	// Age is the time since the last beat.
	Age time.Duration
	// StaleAfter is how old a beat may get before the process counts as
	// gone. The beating process declares it (like a Kubernetes Lease's
	// leaseDurationSeconds), so readers need no configuration of their own.
	StaleAfter time.Duration
}

// Stale reports whether the process looks gone: it never beat, or not
// within StaleAfter.
func (h Heartbeat) Stale() bool { return !h.Found || h.Age > h.StaleAfter }

// Heartbeats is the heartbeats table.
type Heartbeats struct {
	st    *Store
	table r.Term
}

// Heartbeats returns the heartbeats table.
func (st *Store) Heartbeats() *Heartbeats {
	return &Heartbeats{st: st, table: st.db.Table(heartbeatsTable)}
}

// Beat records that the process id is alive now, and how long the beat
// stays fresh.
func (h *Heartbeats) Beat(ctx context.Context, id string, staleAfter time.Duration) error {
	ctx, cancel := h.st.queryContext(ctx)
	defer cancel()
	_, err := h.st.write(ctx, "heartbeat", h.table.Insert(map[string]any{
		"id":          id,
		"at":          r.Now(),
		"stale_after": staleAfter.Seconds(),
	}, r.InsertOpts{Conflict: "replace"}))
	return err
}

// Get returns the last beat of the process id.
func (h *Heartbeats) Get(ctx context.Context, id string) (Heartbeat, error) {
	ctx, cancel := h.st.queryContext(ctx)
	defer cancel()
	var doc struct {
		Age        float64 `rethinkdb:"age"`
		StaleAfter float64 `rethinkdb:"stale_after"`
	}
	err := h.table.Get(id).Do(func(hb r.Term) any {
		return r.Branch(hb.Eq(nil), nil, map[string]any{
			"age":         r.Now().Sub(hb.Field("at")),
			"stale_after": hb.Field("stale_after"),
		})
	}).ReadOne(&doc, h.st.session, r.RunOpts{Context: ctx})
	if errors.Is(err, r.ErrEmptyResult) {
		return Heartbeat{ID: id}, nil
	}
	if err != nil {
		return Heartbeat{}, classify("read heartbeat", err)
	}
	return Heartbeat{
		ID:         id,
		Found:      true,
		Age:        seconds(doc.Age),
		StaleAfter: seconds(doc.StaleAfter),
	}, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// describeAge is an age as an operator reads it: "42s", "850ms".
func describeAge(d time.Duration) string {
	if d >= time.Second {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

// WorkerProblem is why the worker's heartbeat makes the service not ready,
// or "" if it does not.
func WorkerProblem(h Heartbeat) string {
	const hint = "is dblistener running? (heroku ps:scale worker=1)"
	switch {
	case !h.Found:
		return "no worker heartbeat: " + hint
	case h.Stale():
		return fmt.Sprintf("worker heartbeat is %s old: %s", describeAge(h.Age), hint)
	}
	return ""
}
