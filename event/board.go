package event

import (
	"encoding/json"
	"time"

	"github.com/leaderboardhq/leaderboard/models"
)

// BoardUpdate is the SSE event type of a board's events.
const BoardUpdate = "update"

// BoardTopic is the topic (hub topic, GRIP channel) of a board's stream.
func BoardTopic(boardID string) string { return "board-" + boardID }

// BoardData is a board as clients see it: GET /boards/{board}/ and every
// board event's data, as in the original plus id and name.
type BoardData struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// The board's options: order and operator always, the reset
	// schedule, its time zone and the next reset when it has one.
	Order       string       `json:"order"`
	Operator    string       `json:"operator"`
	Reset       string       `json:"reset,omitempty"`
	ResetTZ     string       `json:"reset_tz,omitempty"`
	NextResetAt *time.Time   `json:"next_reset_at,omitempty"`
	Players     []PlayerData `json:"players"`
}

// PlayerData is a player in a board's list (no board field) and, with Board,
// GET /boards/{board}/players/{player}/.
type PlayerData struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Score int64  `json:"score"`
	Rank  int    `json:"rank"`
	Board string `json:"board,omitempty"`
	// Metadata is the player's own JSON object, when it has one.
	Metadata map[string]any `json:"metadata,omitempty"`
}

// NewBoardData is b with top as its players.
func NewBoardData(b *models.Board, top []models.Player) BoardData {
	out := BoardData{ID: b.ID, Name: b.Name, Order: b.OrderOf(), Operator: b.OperatorOf(),
		Reset: b.Reset, ResetTZ: b.ResetTZ, Players: make([]PlayerData, len(top))}
	if next := b.NextReset(); !next.IsZero() {
		out.NextResetAt = &next
	}
	for i, p := range top {
		out.Players[i] = PlayerData{ID: p.ID, Name: p.Name, Score: p.Score, Rank: p.Rank, Metadata: p.Metadata}
	}
	return out
}

// NewPlayerData is p as GET of a player shows it.
func NewPlayerData(p *models.Player) PlayerData {
	return PlayerData{ID: p.ID, Name: p.Name, Score: p.Score, Rank: p.Rank, Board: p.Board, Metadata: p.Metadata}
}

// Board is a board's event: its materialized top, as the listener last
// wrote it, with the board's seq.
func Board(b *models.Board) Event {
	data, err := json.Marshal(NewBoardData(b, b.Top))
	if err != nil {
		panic(err) // plain strings and numbers always marshal
	}
	return Event{Topic: BoardTopic(b.ID), Seq: b.Seq, Type: BoardUpdate, Data: data, At: b.SavedAt}
}
