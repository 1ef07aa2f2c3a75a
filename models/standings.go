package models

import (
	"context"
	"encoding/json"
	"fmt"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Standing is a player's place in its board's rank index, as the
// standings feed carries it.
type Standing struct {
	Board string
	Key   EntryKey
}

// StandingChange is one item of the standings feed: an initial value (Old
// nil), a change (Old and New, either nil for an insert or a delete), or,
// with Ready set, the end of the initial values.
type StandingChange struct {
	Old, New *Standing
	Ready    bool
}

// Standings follows every player's place: first every player's current
// place (RethinkDB's include_initial, which also guarantees that changes
// and initial values meet exactly), then a ready mark, then every change,
// whoever wrote it. Only what ranking needs is decoded.
func (p *Players) Standings(ctx context.Context) (*Feed[StandingChange], error) {
	q := p.table.Changes(r.ChangesOpts{IncludeInitial: true, IncludeStates: true})
	return openStandingsFeed(ctx, p.st, q)
}

func openStandingsFeed(ctx context.Context, st *Store, q r.Term) (*Feed[StandingChange], error) {
	cursor, err := q.Run(st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return nil, classify("open standings feed", err)
	}
	return &Feed[StandingChange]{cursor: cursor, ctx: ctx, decodeJSON: decodeStandingJSON}, nil
}

// rawChange is a standings feed document, decoded straight from its JSON
// with only the fields ranking needs (a player's name and metadata are
// skipped, not decoded).
type rawChange struct {
	NewVal *rawPlayer `json:"new_val"`
	OldVal *rawPlayer `json:"old_val"`
	State  string     `json:"state"`
}

type rawPlayer struct {
	ID        string   `json:"id"`
	Board     string   `json:"board"`
	Score     *float64 `json:"score"`
	RankScore *float64 `json:"rank_score"`
	ReachedAt *float64 `json:"reached_at"`
}

func (p *rawPlayer) standing() *Standing {
	if p == nil || p.ID == "" || p.Board == "" || p.Score == nil || p.ReachedAt == nil {
		return nil
	}
	s := *p.Score
	if p.RankScore != nil {
		s = *p.RankScore
	}
	return &Standing{Board: p.Board, Key: EntryKey{S: s, T: -*p.ReachedAt, ID: p.ID}}
}

func decodeStandingJSON(data []byte) (StandingChange, error) {
	var c rawChange
	if err := json.Unmarshal(data, &c); err != nil {
		// A document someone else wrote, with a field of another type:
		// read it leniently.
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			return StandingChange{}, fmt.Errorf("standings feed: %w", err)
		}
		return decodeStanding(doc)
	}
	if c.State != "" {
		return StandingChange{Ready: c.State == "ready"}, nil
	}
	return StandingChange{Old: c.OldVal.standing(), New: c.NewVal.standing()}, nil
}

func decodeStanding(doc map[string]any) (StandingChange, error) {
	if state, ok := doc["state"].(string); ok {
		return StandingChange{Ready: state == "ready"}, nil
	}
	return StandingChange{Old: standingOf(doc["old_val"]), New: standingOf(doc["new_val"])}, nil
}

// standingOf reads a player document leniently: anyone can write to the
// table, and a document the rank index leaves out (no board, no score, no
// reached_at) has no place.
func standingOf(v any) *Standing {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	board, _ := m["board"].(string)
	id, _ := m["id"].(string)
	score, ok1 := m["score"].(float64)
	reached, ok2 := m["reached_at"].(float64)
	if board == "" || id == "" || !ok1 || !ok2 {
		return nil
	}
	if rs, ok := m[rankScoreField].(float64); ok {
		score = rs
	} else if _, present := m[rankScoreField]; present {
		return nil
	}
	return &Standing{Board: board, Key: EntryKey{S: score, T: -reached, ID: id}}
}

// Around returns the player of board with id and up to n players on each
// side of it in the standings, best first, ranked. With a ranker that knows
// the board it costs O(log n + n) at any depth.
func (p *Players) Around(ctx context.Context, board, id string, n int) ([]Player, error) {
	player, err := p.Get(ctx, board, id)
	if err != nil {
		return nil, err
	}
	pos := -1
	if p.ranker != nil {
		if at, _, ok := p.ranker.Position(ctx, board, player.Key()); ok {
			pos = at
		}
	}
	if pos < 0 {
		// Count: the players ranked above it, and those tied with it that
		// the index puts first (a greater id).
		k := player.Key()
		qctx, cancel := p.st.queryContext(ctx)
		defer cancel()
		var ties int
		err := p.table.Between([]any{board, k.S, k.T}, []any{board, k.S, k.T},
			r.BetweenOpts{Index: rankIndex, RightBound: "closed"}).
			Filter(func(row r.Term) r.Term { return row.Field("id").Gt(k.ID) }).Count().
			ReadOne(&ties, p.st.session, r.RunOpts{Context: qctx})
		if err != nil {
			return nil, classify("position of player", err)
		}
		pos = player.Rank - 1 + ties
	}
	start := max(0, pos-n)
	return p.ForBoard(ctx, board, start, pos-start+n+1)
}
