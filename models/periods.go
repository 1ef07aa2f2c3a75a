package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

const (
	// periodsTable keeps each finished period of a board with resets: its
	// final standings' top ArchiveTop, {id: "<board>/<period>", board,
	// period, ended_at, top}.
	periodsTable = "board_periods"
	// boardPeriodIndex is [board, period]: a board's last period is one
	// range read.
	boardPeriodIndex = "board_period"
	// ArchiveTop is how many players of a period's final standings are
	// kept.
	ArchiveTop = 100
)

// Period is a finished period of a board.
type Period struct {
	Board   string    `rethinkdb:"board"`
	Period  int       `rethinkdb:"period"`
	EndedAt time.Time `rethinkdb:"ended_at"`
	Top     []Player  `rethinkdb:"top"`
}

// DueForReset returns the boards whose next reset is at or before now.
func (b *Boards) DueForReset(ctx context.Context, now time.Time) ([]Board, error) {
	ctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	var boards []Board
	err := b.table.Between(r.MinVal, epochSeconds(now), r.BetweenOpts{Index: nextResetIndex, RightBound: "closed"}).
		Without("top").ReadAll(&boards, b.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return nil, classify("boards due for reset", err)
	}
	return boards, nil
}

// NextReset is the earliest next reset of any board; ok is false when no
// board has a schedule.
func (b *Boards) NextReset(ctx context.Context) (time.Time, bool, error) {
	ctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	var next []float64
	err := b.table.OrderBy(r.OrderByOpts{Index: nextResetIndex}).Limit(1).Field(nextResetField).
		ReadAll(&next, b.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return time.Time{}, false, classify("next reset", err)
	}
	if len(next) == 0 {
		return time.Time{}, false, nil
	}
	return fromEpoch(next[0]), true, nil
}

// ClaimReset moves the board's next reset from the time board says (as
// read) to the first scheduled time after now and starts its next period,
// in one atomic update that only succeeds while next_reset_at is still what
// was read: of several processes claiming one reset, exactly one wins
// (true). Resets missed while nothing ran count once. The same update marks
// the period being ended (ending_period, ending_at, claimed_at) until
// EndPeriod is done, so that a reset whose claimer died half way is
// finished by another process (Unfinished).
func (b *Boards) ClaimReset(ctx context.Context, board *Board, now time.Time) (bool, error) {
	sched, err := ParseReset(board.Reset, board.ResetTZ)
	if err != nil {
		return false, fmt.Errorf("board %s: %w", board.ID, err)
	}
	next := epochSeconds(sched.Next(now))
	ctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	res, err := b.st.write(ctx, "claim reset", b.table.Get(board.ID).Update(func(row r.Term) any {
		return r.Branch(
			row.HasFields("deleting").Not().And(row.Field(nextResetField).Default(nil).Eq(board.NextResetAt)),
			map[string]any{nextResetField: next, "period": row.Field("period").Default(0).Add(1),
				endingField: row.Field("period").Default(0), "ending_at": board.NextResetAt, "claimed_at": epochSeconds(now)},
			map[string]any{})
	}))
	if err != nil {
		return false, err
	}
	if res.Errors > 0 {
		return false, classify("claim reset", errors.New(res.FirstError))
	}
	return res.Replaced == 1, nil
}

// EndPeriod archives the board's standings as period period (its top
// ArchiveTop) and clears the board: its players are deleted, so scores
// start again; then it unmarks the period as being ended. Run it after
// winning ClaimReset, or for an Unfinished reset. It is idempotent, and
// safe when two processes run it at once: the first archive written wins
// (an insert that keeps what is there), and each process writes its
// archive before it deletes anything, so the archive kept was read before
// any player was deleted.
func (b *Boards) EndPeriod(ctx context.Context, board string, period int, endedAt time.Time) error {
	top, err := b.st.Players.ForBoard(ctx, board, 0, ArchiveTop)
	if err != nil {
		return err
	}
	doc := make([]any, len(top))
	for i, p := range top {
		m := map[string]any{"id": p.ID, "name": p.Name, "score": p.Score, "rank": p.Rank}
		if p.Metadata != nil {
			m["metadata"] = p.Metadata
		}
		doc[i] = m
	}
	qctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	_, err = b.st.write(qctx, "archive period", b.st.db.Table(periodsTable).Insert(map[string]any{
		"id":       fmt.Sprintf("%s/%d", board, period),
		"board":    board,
		"period":   period,
		"ended_at": endedAt,
		"top":      doc,
	}, r.InsertOpts{Conflict: func(_, old, _ r.Term) any { return old }}))
	if err != nil {
		return err
	}
	if err := b.st.Players.deleteForBoard(qctx, board); err != nil {
		return err
	}
	res, err := b.st.write(qctx, "end period", b.table.Get(board).Replace(func(row r.Term) any {
		return r.Branch(row.Ne(nil).And(row.Field(endingField).Default(nil).Eq(period)),
			row.Without(endingField, "ending_at", "claimed_at"), row)
	}))
	if err == nil && res.Errors > 0 {
		err = classify("end period", errors.New(res.FirstError))
	}
	return err
}

// endingField marks a board whose period is being ended (see ClaimReset);
// its index finds resets left unfinished.
const endingField = "ending_period"

// Unfinished returns the boards whose reset was claimed at least stale ago
// (by the clock now) and not finished: its claimer died half way.
func (b *Boards) Unfinished(ctx context.Context, now time.Time, stale time.Duration) ([]Board, error) {
	ctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	var boards []struct {
		ID        string  `rethinkdb:"id"`
		Ending    int     `rethinkdb:"ending_period"`
		EndingAt  float64 `rethinkdb:"ending_at"`
		ClaimedAt float64 `rethinkdb:"claimed_at"`
	}
	err := b.table.Between(r.MinVal, r.MaxVal, r.BetweenOpts{Index: endingField}).
		Pluck("id", endingField, "ending_at", "claimed_at").ReadAll(&boards, b.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return nil, classify("unfinished resets", err)
	}
	var out []Board
	for _, x := range boards {
		if now.Sub(fromEpoch(x.ClaimedAt)) >= stale {
			out = append(out, Board{ID: x.ID, Period: x.Ending, NextResetAt: x.EndingAt})
		}
	}
	return out, nil
}

// Previous is the board's last finished period; ErrNotFound if it has
// none.
func (b *Boards) Previous(ctx context.Context, id string) (*Period, error) {
	if !validID(id) {
		return nil, notFound("board")
	}
	ctx, cancel := b.st.queryContext(ctx)
	defer cancel()
	var periods []Period
	err := b.st.db.Table(periodsTable).
		Between([]any{id, r.MinVal}, []any{id, r.MaxVal}, r.BetweenOpts{Index: boardPeriodIndex}).
		OrderBy(r.OrderByOpts{Index: r.Desc(boardPeriodIndex)}).Limit(1).
		ReadAll(&periods, b.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return nil, classify("previous period", err)
	}
	if len(periods) == 0 {
		return nil, &kindError{kind: ErrNotFound, msg: "this board has no finished period yet"}
	}
	return &periods[0], nil
}

// deletePeriods deletes the board's finished periods.
func (b *Boards) deletePeriods(ctx context.Context, id string) error {
	_, err := b.st.write(ctx, "delete board's periods", b.st.db.Table(periodsTable).
		Between([]any{id, r.MinVal}, []any{id, r.MaxVal}, r.BetweenOpts{Index: boardPeriodIndex}).Delete())
	return err
}
