package models

import (
	"context"
	"errors"
	"fmt"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Feed is an open changefeed. RethinkDB does not replay what happened while
// a feed was down, so whoever reopens one must resync.
type Feed[T any] struct {
	cursor *r.Cursor
	ctx    context.Context
	decode func(changeDoc) (T, error)
	// decodeJSON, when set, decodes each document from its JSON instead,
	// skipping the driver's generic decoding.
	decodeJSON func([]byte) (T, error)
}

// changeDoc is one changefeed document; new_val and old_val stay undecoded
// so each feed decodes them into its own type.
type changeDoc struct {
	NewVal any `rethinkdb:"new_val"`
	OldVal any `rethinkdb:"old_val"`
}

// Next blocks for the next change. It returns an error when the feed ends:
// its context is done, the connection was lost, or the server aborted it.
func (f *Feed[T]) Next() (T, error) {
	var zero T
	if f.decodeJSON != nil {
		if data, ok := f.cursor.NextResponse(); ok {
			return f.decodeJSON(data)
		}
	} else {
		var doc changeDoc
		if f.cursor.Next(&doc) {
			return f.decode(doc)
		}
	}
	if err := f.ctx.Err(); err != nil {
		return zero, err
	}
	if err := f.cursor.Err(); err != nil {
		return zero, classify("changefeed", err)
	}
	return zero, fmt.Errorf("changefeed: %w: the feed ended", ErrUnavailable)
}

// Close stops the feed.
func (f *Feed[T]) Close() error { return f.cursor.Close() }

func openFeed[T any](ctx context.Context, st *Store, q r.Term, decode func(changeDoc) (T, error)) (*Feed[T], error) {
	// No query timeout: a feed waits as long as nothing changes.
	cursor, err := q.Run(st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return nil, classify("open changefeed", err)
	}
	return &Feed[T]{cursor: cursor, ctx: ctx, decode: decode}, nil
}

// PlayerChange is a write to the players table: Old or New is nil for an
// insert or a delete.
type PlayerChange struct {
	Old, New *Player
}

// Boards are the boards whose standings the change may move: both, when a
// player moved between boards.
func (c PlayerChange) Boards() []string {
	var ids []string
	if c.Old != nil && c.Old.Board != "" {
		ids = append(ids, c.Old.Board)
	}
	if c.New != nil && c.New.Board != "" && (c.Old == nil || c.Old.Board != c.New.Board) {
		ids = append(ids, c.New.Board)
	}
	return ids
}

// Changes follows every write to players, whoever made it.
func (p *Players) Changes(ctx context.Context) (*Feed[PlayerChange], error) {
	return openFeed(ctx, p.st, p.table.Changes(), func(doc changeDoc) (PlayerChange, error) {
		return PlayerChange{Old: lenientPlayer(doc.OldVal), New: lenientPlayer(doc.NewVal)}, nil
	})
}

// lenientPlayer decodes a player from a changefeed. Anyone can write to the
// table (a script, the admin console), so a malformed document must not stop
// the feed: what matters is which board it is on.
func lenientPlayer(doc any) *Player {
	m, ok := doc.(map[string]any)
	if !ok {
		return nil
	}
	var p Player
	if decode(m, &p) != nil {
		p = Player{}
		p.ID, _ = m["id"].(string)
		p.Board, _ = m["board"].(string)
	}
	return &p
}

// BoardChange is a write to the boards table: Board is the board after it,
// nil when the board was deleted or is being deleted.
type BoardChange struct {
	ID    string
	Board *Board
}

// Changes follows every write to boards (the listener's republishes among
// them).
func (b *Boards) Changes(ctx context.Context) (*Feed[BoardChange], error) {
	return openFeed(ctx, b.st, b.table.Changes(), func(doc changeDoc) (BoardChange, error) {
		if doc.NewVal == nil {
			var old Board
			if err := decode(doc.OldVal, &old); err != nil {
				return BoardChange{}, err
			}
			return BoardChange{ID: old.ID}, nil
		}
		var board Board
		if err := decode(doc.NewVal, &board); err != nil {
			return BoardChange{}, err
		}
		if board.Deleting {
			return BoardChange{ID: board.ID}, nil // gone for readers
		}
		return BoardChange{ID: board.ID, Board: &board}, nil
	})
}

// IDs returns every board's id, for a resync after a feed reconnects.
func (b *Boards) IDs(ctx context.Context) ([]string, error) {
	var ids []string
	after := ""
	for {
		page, err := b.List(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, board := range page {
			ids = append(ids, board.ID)
		}
		if len(page) < 1000 {
			return ids, nil
		}
		after = page[len(page)-1].ID
		if err := ctx.Err(); err != nil {
			return nil, errors.Join(ErrUnavailable, err)
		}
	}
}
