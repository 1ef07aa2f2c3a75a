package models

import (
	"encoding/json"
	"strconv"
	"sync"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// The score-add query is the service's hottest, and the driver rebuilds and
// re-encodes a query's whole term tree on every run: for this one, about a
// fifth of a score-add's allocations (measured with BenchmarkScoreAdd's
// -memprofile). So it is a ReQL function of (board, player, amount), encoded
// to JSON once per table, and each add sends it as a raw FUNCALL with its
// three arguments.
type scoreQuery struct {
	once sync.Once
	// up and down are the encoded functions for amount > 0 and < 0: the
	// range check compares before adding, on the side the amount moves to.
	up, down []byte
}

// scoreAddTerm is the query for an add of amount (not 0) to player id of
// board: the board check, the atomic update and the rank count after it, in
// one round trip. Its result is a write result with "ahead", the players of
// the board ranked strictly before the updated player.
func (p *Players) scoreAddTerm(board, id string, amount int64) (r.Term, error) {
	q := &p.scoreAdd
	var err error
	q.once.Do(func() {
		if q.up, err = encodeTerm(p.scoreAddFunc(1)); err != nil {
			return
		}
		q.down, err = encodeTerm(p.scoreAddFunc(-1))
	})
	if err != nil {
		return r.Term{}, err
	}
	fn := q.up
	if amount < 0 {
		fn = q.down
	}
	b, _ := json.Marshal(board) // strings always marshal
	i, _ := json.Marshal(id)
	raw := make([]byte, 0, len(fn)+len(b)+len(i)+32)
	raw = append(raw, "[64,["...) // FUNCALL
	raw = append(raw, fn...)
	raw = append(raw, ',')
	raw = append(raw, b...)
	raw = append(raw, ',')
	raw = append(raw, i...)
	raw = append(raw, ',')
	raw = strconv.AppendInt(raw, amount, 10)
	raw = append(raw, "]]"...)
	return r.RawQuery(raw), nil
}

// scoreAddFunc is the score-add as a ReQL function of board, player and
// amount, for amounts of sign's sign.
func (p *Players) scoreAddFunc(sign int) r.Term {
	boards := p.st.Boards.table
	return r.Expr(func(board, id, amount r.Term) r.Term {
		update := p.table.Get(id).Update(func(row r.Term) any {
			score := row.Field("score")
			// Compare before adding: past 2^53 the float64 sum rounds (2^53+1
			// is 2^53), so a check of the sum could never fire. The bound is
			// exact: |amount| <= MaxAmount keeps it well inside float64's
			// integers.
			outOfRange := score.Gt(r.Expr(MaxScore).Sub(amount))
			if sign < 0 {
				outOfRange = score.Lt(r.Expr(-MaxScore).Sub(amount))
			}
			return r.Branch(
				row.Field("board").Ne(board), r.Error(errOtherBoard),
				outOfRange, r.Error(errScoreRange),
				map[string]any{"score": score.Add(amount), "reached_at": r.Now().ToEpochTime()},
			)
		}, r.UpdateOpts{ReturnChanges: true})
		// The rank is counted in the same query, right after the update. As
		// when it was a second query, the count is not atomic with the
		// update: it sees the table a moment later.
		withRank := update.Do(func(res r.Term) any {
			changes := res.Field("changes").Default([]any{})
			return r.Branch(changes.Count().Eq(1), changes.Nth(0).Field("new_val").Do(func(player r.Term) any {
				return res.Merge(map[string]any{"ahead": p.table.Between(
					[]any{board, player.Field("score"), player.Field("reached_at").Mul(-1)},
					[]any{board, r.MaxVal},
					r.BetweenOpts{Index: rankIndex, LeftBound: "open"},
				).Count()})
			}), res)
		})
		return boards.Get(board).Do(func(b r.Term) any {
			return r.Branch(liveBoard(b), withRank, r.Error(errNoBoard))
		})
	})
}

// encodeTerm is t as the driver would send it.
func encodeTerm(t r.Term) ([]byte, error) {
	built, err := t.Build()
	if err != nil {
		return nil, err
	}
	return json.Marshal(built)
}
