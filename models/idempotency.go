package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// idempotencyTable holds the Idempotency-Key of every write that sent one:
// {id: sha256 of the caller, path and key, fingerprint, state: "pending" or
// "done", created_at, status, body, location}.
const idempotencyTable = "idempotency_keys"

// IdempotencyWindow is how long a key is remembered, in seconds.
const IdempotencyWindow = 24 * 60 * 60

// createdAtField is when a key was claimed; its index finds expired keys.
const createdAtField = "created_at"

// Errors of idempotent writes.
var (
	// ErrInFlight: a request with the same key is being processed.
	ErrInFlight = errors.New("a request with this Idempotency-Key is still being processed; retry later")
	// ErrKeyReused: the key was used with a different request.
	ErrKeyReused = errors.New("this Idempotency-Key was used with a different request")
)

// IdempotentAnswer is the first answer to a request with a key.
type IdempotentAnswer struct {
	Status   int    `rethinkdb:"status"`
	Body     string `rethinkdb:"body"`
	Location string `rethinkdb:"location,omitempty"`
}

type idempotencyDoc struct {
	ID          string `rethinkdb:"id"`
	Fingerprint string `rethinkdb:"fingerprint"`
	State       string `rethinkdb:"state"`
	IdempotentAnswer
}

// Idempotency is the idempotency_keys table.
type Idempotency struct {
	st    *Store
	table r.Term
}

// Idempotency returns the idempotency_keys table.
func (st *Store) Idempotency() *Idempotency {
	return &Idempotency{st: st, table: st.db.Table(idempotencyTable)}
}

// KeyID is a key's document id: the caller (its credential), the path and
// the key, hashed.
func KeyID(caller, path, key string) string {
	h := sha256.Sum256([]byte(caller + "\x00" + path + "\x00" + key))
	return hex.EncodeToString(h[:])
}

// Claim claims the key id for a request whose fingerprint (a hash of its
// method, path, query and body) is given, by one atomic insert: of
// requests racing with one key, on any number of processes, exactly one
// claims it. A key older than IdempotencyWindow is claimed afresh. When the
// key was claimed before it returns the first answer (answer not nil), or
// ErrInFlight while that request is still being processed, or ErrKeyReused
// for another request's fingerprint.
func (ix *Idempotency) Claim(ctx context.Context, id, fingerprint string) (answer *IdempotentAnswer, err error) {
	ctx, cancel := ix.st.queryContext(ctx)
	defer cancel()
	res, err := ix.st.write(ctx, "claim idempotency key", ix.table.Insert(map[string]any{
		"id":          id,
		"fingerprint": fingerprint,
		"state":       "pending",
		"created_at":  r.Now(),
	}, r.InsertOpts{ReturnChanges: "always", Conflict: func(_, old, new r.Term) any {
		return r.Branch(old.Field("created_at").Lt(r.Now().Sub(IdempotencyWindow)), new, old)
	}}))
	if err != nil {
		return nil, err
	}
	if res.Errors > 0 || len(res.Changes) != 1 {
		return nil, classify("claim idempotency key", errors.New(res.FirstError))
	}
	if res.Inserted == 1 || res.Replaced == 1 {
		return nil, nil
	}
	var doc idempotencyDoc
	if err := decode(res.Changes[0].NewValue, &doc); err != nil {
		return nil, err
	}
	switch {
	case doc.Fingerprint != fingerprint:
		return nil, ErrKeyReused
	case doc.State != "done":
		return nil, ErrInFlight
	}
	return &doc.IdempotentAnswer, nil
}

// Complete stores the first answer of the claimed key id.
func (ix *Idempotency) Complete(ctx context.Context, id string, a IdempotentAnswer) error {
	ctx, cancel := ix.st.queryContext(ctx)
	defer cancel()
	doc := map[string]any{"state": "done", "status": a.Status, "body": a.Body}
	if a.Location != "" {
		doc["location"] = a.Location
	}
	_, err := ix.st.write(ctx, "complete idempotency key", ix.table.Get(id).Update(doc))
	return err
}

// Release forgets the claimed key id, whose request failed on the
// server's side (a 5xx, the database unreachable): a retry runs again.
func (ix *Idempotency) Release(ctx context.Context, id string) error {
	ctx, cancel := ix.st.queryContext(ctx)
	defer cancel()
	_, err := ix.st.write(ctx, "release idempotency key", ix.table.Get(id).Delete())
	return err
}

// Sweep deletes the keys older than IdempotencyWindow and says how many.
// Expired keys are claimed afresh anyway; this only keeps the table small.
func (ix *Idempotency) Sweep(ctx context.Context) (int, error) {
	ctx, cancel := ix.st.queryContext(ctx)
	defer cancel()
	res, err := ix.st.write(ctx, "sweep idempotency keys", ix.table.Between(r.MinVal, r.Now().Sub(IdempotencyWindow),
		r.BetweenOpts{Index: createdAtField}).Delete())
	return res.Deleted, err
}
