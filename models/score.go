package models

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// MaxMetadata bounds a player's metadata, as JSON.
const MaxMetadata = 2 << 10

// errAmountRange is raised inside a score write when the board's operator
// turns out to be "incr" and the value is too large for an amount.
const errAmountRange = "leaderboard: amount out of range"

// ScoreWrite is one change to a player's score.
type ScoreWrite struct {
	// Op is OperatorIncr (add Value), OperatorBest (keep the better of
	// the score and Value, by the board's order) or OperatorSet (replace
	// the score by Value); "" applies the board's own operator.
	Op    string
	Value int64
	// Metadata, when not nil, replaces the player's metadata.
	Metadata map[string]any
}

// isAsc is whether board (a board document in a query) ranks lower scores
// first.
func isAsc(board r.Term) r.Term {
	return board.Field("order").Default(OrderDesc).Eq(OrderAsc)
}

// WriteScore changes the player's score as w says, in one atomic update
// that also checks the board and the score's range, and returns the player
// as that update left it (not a second read, which could include later
// writes), ranked. The same query first reads the board (its options, and
// that it exists and is not being deleted); that read cannot be part of the
// player's atomic update without non_atomic, which would lose concurrent
// writes. A delete that begins between the two only finds a write that its
// sweep then removes. A write that changes no score (adding 0, a "best"
// that is not better, a "set" to the same score) keeps reached_at, so the
// player keeps its place among equal scores.
func (p *Players) WriteScore(ctx context.Context, board, id string, w ScoreWrite) (*Player, error) {
	switch w.Op {
	case OperatorIncr:
		if err := checkAmount(w.Value); err != nil {
			return nil, err
		}
	case "", OperatorBest, OperatorSet:
		if err := checkScore(w.Value); err != nil {
			return nil, err
		}
	default:
		return nil, invalid("unknown score operator %q", w.Op)
	}
	metadata, err := checkMetadata(w.Metadata)
	if err != nil {
		return nil, err
	}
	if !validID(board) || !validID(id) {
		return nil, notFound("player")
	}
	ctx, cancel := p.st.queryContext(ctx)
	defer cancel()
	var q r.Term
	if metadata == nil {
		q, err = p.scoreQueries.fill(p, board, id, w.Op, w.Value)
	} else {
		q = p.scoreQuery(board, id, w.Op, valueOf(w.Value), metadata)
	}
	if err != nil {
		return nil, err
	}
	res, err := p.st.write(ctx, "write score", q)
	if isNoBoard(err) {
		return nil, notFound("player")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case res.Skipped > 0, strings.Contains(res.FirstError, errOtherBoard):
		return nil, notFound("player")
	case strings.Contains(res.FirstError, errAmountRange):
		return nil, invalid("score must be between %d and %d on a board whose operator is %q", -MaxAmount, MaxAmount, OperatorIncr)
	case strings.Contains(res.FirstError, errScoreRange):
		return nil, invalid("score would leave the range -2^53..2^53")
	case res.Errors > 0 || len(res.Changes) != 1:
		return nil, classify("write score", errors.New(res.FirstError))
	}
	var player Player
	if err := decode(res.Changes[0].NewValue, &player); err != nil {
		return nil, err
	}
	p.st.wrote(player.Board, player.ID, player.Score, false)
	if err := p.rank(ctx, &player); err != nil {
		return nil, err
	}
	return &player, nil
}

// scoreQuery is the whole score write: the board's checks, then the
// player's replace. board, id and v are values or, for a prepared query,
// placeholders.
func (p *Players) scoreQuery(board, id any, op string, v scoreValue, metadata map[string]any) r.Term {
	return p.st.Boards.table.Get(board).Do(func(b r.Term) any {
		return r.Branch(liveBoard(b), p.table.Get(id).Replace(func(row r.Term) any {
			return scoreReplace(b, row, board, op, v, metadata)
		}, r.ReplaceOpts{ReturnChanges: "always"}), r.Error(errNoBoard))
	})
}

// scoreValue is what a score write's query needs of its value: the value
// and the bound an old score must not pass for the write to stay in range
// (values, or a prepared query's placeholders), and the two facts about it
// that shape the query.
type scoreValue struct {
	v, bound any
	negative bool // bound is a lower bound
	tooBig   bool // beyond ±MaxAmount: no board's "incr" takes it
}

func valueOf(v int64) scoreValue {
	sv := scoreValue{v: v, bound: MaxScore - v, negative: v < 0, tooBig: v > MaxAmount || v < -MaxAmount}
	if sv.negative {
		sv.bound = -MaxScore - v
	}
	return sv
}

// scoreReplace is the new player document of a score write on the board b,
// from the player's document row; v and metadata are checked. The query is
// built for the operator at hand, and the new score is computed once and
// bound, since every byte of the query is sent, parsed and evaluated at
// each write.
func scoreReplace(b, row r.Term, board any, op string, sv scoreValue, metadata map[string]any) r.Term {
	v := sv.v
	old := row.Field("score")
	// Compare before adding: past 2^53 the float64 sum rounds (2^53+1 is
	// 2^53), so a check of the sum could never fire.
	outOfRange := old.Gt(sv.bound)
	if sv.negative {
		outOfRange = old.Lt(sv.bound)
	}
	asc := isAsc(b)
	best := func() r.Term { return r.Branch(asc, r.Branch(old.Le(v), old, v), r.Branch(old.Ge(v), old, v)) }
	checks := []any{
		row.Eq(nil), r.Error(errOtherBoard),
		row.Field("board").Ne(board), r.Error(errOtherBoard),
	}
	var score r.Term
	switch op {
	case OperatorIncr:
		// checkAmount has bounded v.
		checks = append(checks, outOfRange, r.Error(errScoreRange))
		score = old.Add(v)
	case OperatorSet:
		score = r.Expr(v)
	case OperatorBest:
		score = best()
	default: // the board's own operator
		boardOp := b.Field("operator").Default(OperatorIncr)
		isIncr := boardOp.Eq(OperatorIncr)
		if sv.tooBig {
			checks = append(checks, isIncr, r.Error(errAmountRange))
		}
		checks = append(checks, isIncr.And(outOfRange), r.Error(errScoreRange))
		score = r.Branch(isIncr, old.Add(v), boardOp.Eq(OperatorSet), v, best())
	}
	with := func(fields map[string]any) r.Term {
		if metadata == nil {
			return row.Merge(fields)
		}
		fields["metadata"] = metadata
		return row.Without("metadata").Merge(fields)
	}
	write := score.Do(func(score r.Term) any {
		return r.Branch(
			score.Eq(old), with(map[string]any{}),
			asc, with(map[string]any{"score": score, "reached_at": r.Now().ToEpochTime(), rankScoreField: score.Mul(-1)}),
			with(map[string]any{"score": score, "reached_at": r.Now().ToEpochTime()}),
		)
	})
	return r.Branch(append(checks, write)...)
}

// checkMetadata validates a player's metadata: a JSON object of at most
// MaxMetadata bytes, with no key RethinkDB would read as a pseudo-type. It
// returns the object with plain JSON values (numbers as float64), as the
// database stores it; nil for nil.
func checkMetadata(m map[string]any) (map[string]any, error) {
	if m == nil {
		return nil, nil
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, invalid("metadata must be a JSON object")
	}
	if len(data) > MaxMetadata {
		return nil, invalid("metadata must be at most %d bytes of JSON (got %d)", MaxMetadata, len(data))
	}
	var out map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, invalid("metadata must be a JSON object")
	}
	if hasReqlType(out) {
		return nil, invalid("metadata must not use the key $reql_type$")
	}
	return out, nil
}

func hasReqlType(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "$reql_type$" || hasReqlType(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasReqlType(e) {
				return true
			}
		}
	}
	return false
}

// EntryKey is a player's place in its board's rank index: S is the sort
// score (the score, or minus it on an "asc" board), T minus the time it
// was reached, ID the player. Entries sort by S, then T, then ID; the
// best is the greatest. Two players with equal S and T share a rank.
type EntryKey struct {
	S, T float64
	ID   string
}

// Key is the player's EntryKey.
func (p *Player) Key() EntryKey {
	s := float64(p.Score)
	if p.RankScore != nil {
		s = *p.RankScore
	}
	return EntryKey{S: s, T: -p.ReachedAt, ID: p.ID}
}

// Ranker answers rank questions from memory (package rankcache), or refuses
// (ok false) while it does not know the standings (warming up, or after a
// lost feed until rebuilt): the Players then count in the database.
type Ranker interface {
	// Rank is the rank of the player k.ID at index entry k among the
	// other players of board (its own entry, at whatever score the ranker
	// last saw, is left out).
	Rank(ctx context.Context, board string, k EntryKey) (rank int, ok bool)
	// Position is where the player k.ID at entry k is in its board (0 is
	// the best), among the others, and its rank.
	Position(ctx context.Context, board string, k EntryKey) (pos, rank int, ok bool)
	// At is the entry at position pos of board (0 is the best), how many
	// entries with the same S and T come before it, and how many entries
	// the board has (k is zero when pos is past the end); ok is false
	// while the ranker does not know the board yet.
	At(board string, pos int) (k EntryKey, tiesBefore, n int, ok bool)
}

// SetRanker makes the players answer ranks from r where it can. Call it
// before serving.
func (p *Players) SetRanker(rk Ranker) { p.ranker = rk }
