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
// (true). Resets missed while nothing ran count once.
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
			map[string]any{nextResetField: next, "period": row.Field("period").Default(0).Add(1)},
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
// start again. Run it after winning ClaimReset. It is idempotent: the
// archive is keyed by board and period.
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
	}, r.InsertOpts{Conflict: "replace"}))
	if err != nil {
		return err
	}
	return b.st.Players.deleteForBoard(qctx, board)
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
