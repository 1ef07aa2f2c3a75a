package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/encoding"
)

// Board is a leaderboard. Top and Seq are written by the listener: Top is the
// materialized top N, Seq grows by one at every republish and is the SSE
// event id.
type Board struct {
	ID        string    `rethinkdb:"id,omitempty"`
	Name      string    `rethinkdb:"name"`
	CreatedAt time.Time `rethinkdb:"created_at"`
	Top       []Player  `rethinkdb:"top"`
	Seq       uint64    `rethinkdb:"seq"`
	// SavedAt is when the listener saved Top (the database's clock).
	SavedAt time.Time `rethinkdb:"saved_at,omitempty"`
	// Deleting is set by Delete's first step: from then on the board is
	// gone for every reader, and no player may be added to it.
	Deleting bool `rethinkdb:"deleting,omitempty"`
	// Order, Operator, Reset and ResetTZ are the board's options (see
	// options.go), set at creation; empty Order and Operator (boards made
	// before options) mean the defaults.
	Order    string `rethinkdb:"order,omitempty"`
	Operator string `rethinkdb:"operator,omitempty"`
	Reset    string `rethinkdb:"reset,omitempty"`
	ResetTZ  string `rethinkdb:"reset_tz,omitempty"`
	// NextResetAt is when the board resets next (seconds since the epoch),
	// and Period counts the resets so far.
	NextResetAt float64 `rethinkdb:"next_reset_at,omitempty"`
	Period      int     `rethinkdb:"period,omitempty"`
}

// errNoBoard is raised inside a query when the board is missing or being
// deleted, so the check and the write are one query. Its text only
// travels from the database back to the caller.
const errNoBoard = "leaderboard: no such board"

// liveBoard is true for a board document that exists and is not being
// deleted.
func liveBoard(board r.Term) r.Term {
	return board.Ne(nil).And(board.HasFields("deleting").Not())
}

// isNoBoard reports whether a query failed on errNoBoard.
func isNoBoard(err error) bool {
	return err != nil && strings.Contains(err.Error(), errNoBoard)
}

// Boards is the boards table.
type Boards struct {
	st    *Store
	table r.Term
}

// Get returns the board with id, or ErrNotFound.
func (b *Boards) Get(ctx context.Context, id string) (*Board, error) {
	if !validID(id) {
		return nil, notFound("board")
	}
	ctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	var board Board
	err := b.table.Get(id).ReadOne(&board, b.st.session, r.RunOpts{Context: ctx})
	if errors.Is(err, r.ErrEmptyResult) {
		return nil, notFound("board")
	}
	if err != nil {
		return nil, classify("get board", err)
	}
	if board.Deleting {
		return nil, notFound("board")
	}
	return &board, nil
}

// Save creates the board when it has no ID (setting ID and CreatedAt), or
// renames it.
func (b *Boards) Save(ctx context.Context, board *Board) error {
	name, err := cleanName("board", board.Name)
	if err != nil {
		return err
	}
	ctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	run := r.RunOpts{Context: ctx}
	if board.ID == "" {
		doc, err := b.newBoardDoc(board, name)
		if err != nil {
			return err
		}
		res, err := b.st.write(ctx, "create board", b.table.Insert(doc, r.InsertOpts{ReturnChanges: true}))
		if err != nil {
			return err
		}
		if res.Errors > 0 || len(res.Changes) != 1 {
			return classify("create board", errors.New(res.FirstError))
		}
		return decode(res.Changes[0].NewValue, board)
	}
	if !validID(board.ID) {
		return notFound("board")
	}
	res, err := b.table.Get(board.ID).Update(map[string]any{"name": name}).RunWrite(b.st.session, run)
	if err != nil {
		return classify("rename board", err)
	}
	if res.Skipped > 0 {
		return notFound("board")
	}
	board.Name = name
	return nil
}

// Delete removes the board and its players. RethinkDB has no transactions
// across documents, so it goes in steps that leave no player behind
// whatever runs concurrently:
//
//  1. mark the board deleting, in one atomic update: from then on it reads
//     as not found, the listener no longer republishes it, creates and
//     score-adds are refused, and a create that inserted its player
//     meanwhile finds the mark when it checks again and removes its player
//     (Players.Save);
//  2. delete the board's players;
//  3. delete the board;
//  4. delete its players again, in case a create could not clean up after
//     itself.
//
// A failure part way leaves a marked board, invisible to readers, that a
// retried Delete finishes.
func (b *Boards) Delete(ctx context.Context, id string) error {
	if !validID(id) {
		return notFound("board")
	}
	ctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	res, err := b.st.write(ctx, "mark board deleting", b.table.Get(id).Update(map[string]any{"deleting": true}))
	if err != nil {
		return err
	}
	if res.Skipped > 0 {
		return notFound("board")
	}
	if res.Errors > 0 {
		return classify("mark board deleting", errors.New(res.FirstError))
	}
	if err := b.st.Players.deleteForBoard(ctx, id); err != nil {
		return err
	}
	if err := b.deletePeriods(ctx, id); err != nil {
		return err
	}
	if _, err := b.st.write(ctx, "delete board", b.table.Get(id).Delete()); err != nil {
		return err
	}
	if b.st.observer != nil {
		b.st.observer.Deleted(id)
	}
	return b.st.Players.deleteForBoard(ctx, id)
}

// errNoCursor is raised inside List's query when the board a page starts
// after is gone; its text only travels from the database back to List.
const errNoCursor = "leaderboard: no board to list after"

// List returns up to limit boards, oldest first, starting after the board
// with id after ("" for the first page): keyset pagination on the created
// index ([created_at, id]), stable while boards come and go. A page cannot
// start after a board that no longer exists (ErrInvalid).
func (b *Boards) List(ctx context.Context, after string, limit int) ([]Board, error) {
	ctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	var lower any = r.MinVal
	bound := "closed"
	if after != "" {
		lower = b.table.Get(after).Do(func(board r.Term) any {
			return r.Branch(board.Eq(nil), r.Error(errNoCursor),
				[]any{board.Field("created_at"), board.Field("id")})
		})
		bound = "open"
	}
	var boards []Board
	err := b.table.Between(lower, r.MaxVal, r.BetweenOpts{Index: createdIndex, LeftBound: bound}).
		OrderBy(r.OrderByOpts{Index: createdIndex}).
		Filter(func(board r.Term) r.Term { return board.HasFields("deleting").Not() }).
		Limit(limit).
		Without("top").
		ReadAll(&boards, b.st.session, r.RunOpts{Context: ctx})
	if err != nil && strings.Contains(err.Error(), errNoCursor) {
		return nil, invalid("after: board %q no longer exists; list from the first page again", after)
	}
	if err != nil {
		return nil, classify("list boards", err)
	}
	return boards, nil
}

// SaveTop stores top as the board's materialized top N and bumps Seq, in one
// atomic update, unless top is what the board already has. It returns the
// board after the write and whether it changed; ErrNotFound if the board is
// gone or being deleted.
func (b *Boards) SaveTop(ctx context.Context, id string, top []Player) (*Board, bool, error) {
	ctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	doc := make([]any, len(top))
	for i, p := range top {
		m := map[string]any{"id": p.ID, "name": p.Name, "score": p.Score, "rank": p.Rank}
		if p.Metadata != nil {
			m["metadata"] = p.Metadata
		}
		doc[i] = m
	}
	res, err := b.st.write(ctx, "save board top", b.table.Get(id).Update(func(board r.Term) any {
		return r.Branch(
			board.HasFields("deleting"), r.Error(errNoBoard),
			board.Field("top").Default(nil).Eq(doc), map[string]any{},
			map[string]any{"top": doc, "seq": board.Field("seq").Default(0).Add(1), "saved_at": r.Now()})
	}, r.UpdateOpts{ReturnChanges: true}))
	if err != nil {
		return nil, false, err
	}
	if res.Skipped > 0 || isNoBoard(errors.New(res.FirstError)) {
		return nil, false, notFound("board")
	}
	if res.Errors > 0 {
		return nil, false, classify("save board top", errors.New(res.FirstError))
	}
	if res.Unchanged > 0 || len(res.Changes) == 0 {
		return nil, false, nil
	}
	var board Board
	if err := decode(res.Changes[0].NewValue, &board); err != nil {
		return nil, false, err
	}
	return &board, true, nil
}

// decode converts a document from a write result or a changefeed into v.
func decode(doc any, v any) error {
	if err := encoding.Decode(v, doc); err != nil {
		return fmt.Errorf("decode document: %w", err)
	}
	return nil
}

// write runs a write query and returns its result document as is: unlike the
// driver's RunWrite, per-document errors stay in the result for the caller
// to interpret (an r.error raised by a rule, say).
func (st *Store) write(ctx context.Context, op string, q r.Term) (r.WriteResponse, error) {
	var res r.WriteResponse
	if err := q.ReadOne(&res, st.session, r.RunOpts{Context: ctx}); err != nil {
		return res, classify(op, err)
	}
	return res, nil
}
