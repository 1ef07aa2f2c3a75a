package models

import (
	"context"
	"errors"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Player is one player of one board. ReachedAt is when the score was last
// changed (seconds since the epoch, the database's clock): at equal scores,
// whoever got there first ranks higher. Rank is computed, not stored, except
// in a board's materialized top.
type Player struct {
	ID        string  `rethinkdb:"id,omitempty"`
	Board     string  `rethinkdb:"board,omitempty"`
	Name      string  `rethinkdb:"name"`
	Score     int64   `rethinkdb:"score"`
	ReachedAt float64 `rethinkdb:"reached_at,omitempty"`
	Rank      int     `rethinkdb:"rank,omitempty"`
	// RankScore is the sort key on an "asc" board (minus the score); nil
	// on "desc" boards, where the score is the key.
	RankScore *float64 `rethinkdb:"rank_score,omitempty"`
	// Metadata is the caller's own JSON object (at most MaxMetadata bytes).
	Metadata map[string]any `rethinkdb:"metadata,omitempty"`
}

// Players is the players table.
type Players struct {
	st    *Store
	table r.Term
	// ranker, when set, answers ranks from memory (SetRanker).
	ranker Ranker
	// scoreQueries are the score writes' prepared queries.
	scoreQueries preparedScores
}

// Errors raised inside the score update, so the checks and the write are one
// atomic step. Their text only travels from the database back to AddScore.
const (
	errOtherBoard = "leaderboard: player is on another board"
	errScoreRange = "leaderboard: score out of range"
)

// Get returns the player of board with id, with its rank; ErrNotFound if
// there is none, it belongs to another board, or its board is gone or being
// deleted.
func (p *Players) Get(ctx context.Context, board, id string) (*Player, error) {
	if !validID(board) || !validID(id) {
		return nil, notFound("player")
	}
	ctx, cancel := p.st.queryContext(ctx)
	defer cancel()
	var player Player
	err := p.st.Boards.table.Get(board).Do(func(b r.Term) any {
		return r.Branch(liveBoard(b), p.table.Get(id), nil)
	}).ReadOne(&player, p.st.session, r.RunOpts{Context: ctx})
	if errors.Is(err, r.ErrEmptyResult) || (err == nil && player.Board != board) {
		return nil, notFound("player")
	}
	if err != nil {
		return nil, classify("get player", err)
	}
	if err := p.rank(ctx, &player); err != nil {
		return nil, err
	}
	return &player, nil
}

// Save creates the player on its board, which must exist and not be being
// deleted, setting ID and ReachedAt.
//
// RethinkDB cannot insert into players on a condition read from boards
// atomically, so one query checks the board, inserts, and checks the board
// again: a Boards.Delete that began between the two checks has marked the
// board, and the query removes the player it inserted and fails as not
// found. Either the create is over before the delete began (and the
// delete's sweep removes the player) or it answers 404.
func (p *Players) Save(ctx context.Context, player *Player) error {
	name, err := cleanName("player", player.Name)
	if err != nil {
		return err
	}
	if err := checkScore(player.Score); err != nil {
		return err
	}
	metadata, err := checkMetadata(player.Metadata)
	if err != nil {
		return err
	}
	if player.ID != "" {
		return invalid("players are created without an id")
	}
	if !validID(player.Board) {
		return notFound("board")
	}
	ctx, cancel := p.st.queryContext(ctx)
	defer cancel()
	boards := p.st.Boards.table
	doc := map[string]any{
		"board":      player.Board,
		"name":       name,
		"score":      player.Score,
		"reached_at": r.Now().ToEpochTime(),
	}
	if metadata != nil {
		doc["metadata"] = metadata
	}
	ascDoc := map[string]any{rankScoreField: -float64(player.Score)}
	for k, v := range doc {
		ascDoc[k] = v
	}
	res, err := p.st.write(ctx, "create player", boards.Get(player.Board).Do(func(board r.Term) any {
		insert := p.table.Insert(r.Branch(isAsc(board), ascDoc, doc), r.InsertOpts{ReturnChanges: true})
		return r.Branch(liveBoard(board).Not(), r.Error(errNoBoard),
			insert.Do(func(res r.Term) any {
				return boards.Get(player.Board).Do(func(board r.Term) any {
					return r.Branch(res.Field("inserted").Eq(0).Or(liveBoard(board)), res,
						p.table.Get(res.Field("generated_keys").Nth(0)).Delete().Do(func(r.Term) any {
							return r.Error(errNoBoard)
						}))
				})
			}))
	}))
	if isNoBoard(err) {
		return notFound("board")
	}
	if err != nil {
		return err
	}
	if res.Errors > 0 || len(res.Changes) != 1 {
		return classify("create player", errors.New(res.FirstError))
	}
	if err := decode(res.Changes[0].NewValue, player); err != nil {
		return err
	}
	p.st.wrote(player.Board, player.ID, player.Score, false)
	return p.rank(ctx, player)
}

// deleteForBoard deletes every player of board.
func (p *Players) deleteForBoard(ctx context.Context, board string) error {
	// The rank index's range of the board holds every player of it (a
	// document without a board, a score or reached_at is nobody's player).
	_, err := p.st.write(ctx, "delete board's players", p.boardRange(board).Delete())
	return err
}

// Delete removes the player of board with id.
func (p *Players) Delete(ctx context.Context, board, id string) error {
	if !validID(board) || !validID(id) {
		return notFound("player")
	}
	ctx, cancel := p.st.queryContext(ctx)
	defer cancel()
	res, err := p.st.write(ctx, "delete player", p.table.Get(id).Replace(func(row r.Term) any {
		return r.Branch(row.Field("board").Eq(board), nil, row)
	}))
	if err != nil {
		return err
	}
	if res.Deleted == 0 {
		return notFound("player")
	}
	p.st.wrote(board, id, 0, true)
	return nil
}

// AddScore adds amount to the player's score in one atomic update that also
// checks the board and the score's range, and returns the player as that
// update left it (not a second read, which could include later writes).
// The same query first checks that the board exists and is not being
// deleted; that read cannot be part of the player's atomic update without
// non_atomic, which would lose concurrent adds. A delete that begins
// between the two only finds an add that its sweep then removes.
func (p *Players) AddScore(ctx context.Context, board, id string, amount int64) (*Player, error) {
	return p.WriteScore(ctx, board, id, ScoreWrite{Op: OperatorIncr, Value: amount})
}

// boardRange is the part of the rank index that holds one board's players.
func (p *Players) boardRange(board string) r.Term {
	return p.table.Between([]any{board, r.MinVal}, []any{board, r.MaxVal}, r.BetweenOpts{Index: rankIndex})
}

// TopForBoard returns the board's best n players, best first, ranked. It is
// a range read of the rank index: O(log n + N), whatever the table's size.
func (p *Players) TopForBoard(ctx context.Context, board string, n int) ([]Player, error) {
	return p.ForBoard(ctx, board, 0, n)
}

// ForBoard returns a page of the board's standings: the players after the
// best skip, at most n, best first, ranked. With a ranker that knows the
// board it is O(log n + n) at any depth: the ranker gives the index entry at
// position skip, and the page is an index range read from there. Without
// one it walks the rank index from the board's top, O(log n + skip + n).
func (p *Players) ForBoard(ctx context.Context, board string, skip, n int) ([]Player, error) {
	ctx, cancel := p.st.queryContext(ctx)
	defer cancel()
	q := p.boardRange(board).OrderBy(r.OrderByOpts{Index: r.Desc(rankIndex)}).Skip(skip)
	if p.ranker != nil && skip > 0 {
		k, ties, total, ok := p.ranker.At(board, skip)
		switch {
		case ok && skip >= total:
			return []Player{}, nil
		case ok:
			q = p.table.Between([]any{board, r.MinVal}, []any{board, k.S, k.T},
				r.BetweenOpts{Index: rankIndex, RightBound: "closed"}).
				OrderBy(r.OrderByOpts{Index: r.Desc(rankIndex)}).Skip(ties)
		}
	}
	var players []Player
	err := q.Limit(n).ReadAll(&players, p.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return nil, classify("players of board", err)
	}
	if len(players) == 0 {
		return players, nil
	}
	first := skip + 1
	if skip > 0 {
		// The page's first player may tie with the previous page's last.
		if err := p.rank(ctx, &players[0]); err != nil {
			return nil, err
		}
		first = players[0].Rank
	}
	assignRanks(players, first, skip+1)
	return players, nil
}

// assignRanks numbers an ordered list whose first player has rank first and
// position pos in the standings: competition ranking ("1224"), so two
// players the index cannot tell apart share a rank, as Get would report.
func assignRanks(players []Player, first, pos int) {
	for i := range players {
		switch {
		case i == 0:
			players[i].Rank = first
		case players[i].Key().S == players[i-1].Key().S && players[i].ReachedAt == players[i-1].ReachedAt:
			players[i].Rank = players[i-1].Rank
		default:
			players[i].Rank = pos + i
		}
	}
}

// rank sets player.Rank: one more than the players of its board that sort
// strictly before it in the rank index.
func (p *Players) rank(ctx context.Context, player *Player) error {
	var ahead int
	if p.ranker != nil {
		if rank, ok := p.ranker.Rank(ctx, player.Board, player.Key()); ok {
			player.Rank = rank
			return nil
		}
	}
	key := player.Key()
	err := p.table.Between(
		[]any{player.Board, key.S, key.T},
		[]any{player.Board, r.MaxVal},
		r.BetweenOpts{Index: rankIndex, LeftBound: "open"},
	).Count().ReadOne(&ahead, p.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return classify("rank player", err)
	}
	player.Rank = ahead + 1
	return nil
}
