package views

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/models"
)

// MaxAround bounds ?n= of around: n above and n below.
const MaxAround = 50

// MaxOffset bounds ?offset= of a standings page.
const MaxOffset = 1_000_000_000

// MaxBatch bounds the items of one batch of scores.
const MaxBatch = 1000

// batchPath is the route of batches, whose bodies may be larger: a
// thousand items with their metadata.
const batchPath = "/boards/:board/scores"

// maxBatchBody bounds a batch's body: MaxBatch items of MaxMetadata bytes
// of metadata and some room for the rest.
const maxBatchBody = MaxBatch * (models.MaxMetadata + 256)

func isBatch(c echo.Context) bool { return c.Path() == batchPath }

// bodyLimit is the largest body the request's route takes.
func bodyLimit(c echo.Context) int {
	if isBatch(c) {
		return maxBatchBody
	}
	return maxBody
}

// standingsPage is GET /boards/{board}/players/.
type standingsPage struct {
	Board   string             `json:"board"`
	Offset  int                `json:"offset"`
	Players []event.PlayerData `json:"players"`
	// Next is the URL of the next page, null on the last.
	Next *string `json:"next"`
}

func playerList(players []models.Player) []event.PlayerData {
	out := make([]event.PlayerData, len(players))
	for i := range players {
		out[i] = event.NewPlayerData(&players[i])
		out[i].Board = ""
	}
	return out
}

// listPlayers is any page of a board's standings, ranked.
func (s *Server) listPlayers(c echo.Context) error {
	limit, err := queryInt(c, "limit", 20, 1, MaxLimit)
	if err != nil {
		return err
	}
	offset, err := queryInt(c, "offset", 0, 0, MaxOffset)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id := c.Param("board")
	if _, err := s.store.Boards.Get(ctx, id); err != nil {
		return err
	}
	players, err := s.store.Players.ForBoard(ctx, id, offset, limit+1)
	if err != nil {
		return err
	}
	out := standingsPage{Board: id, Offset: offset}
	if len(players) > limit {
		players = players[:limit]
		next := boardPath(id) + "players/?offset=" + strconv.Itoa(offset+limit) + "&limit=" + strconv.Itoa(limit)
		out.Next = &next
	}
	out.Players = playerList(players)
	return c.JSON(http.StatusOK, out)
}

// aroundPage is GET /boards/{board}/players/{player}/around.
type aroundPage struct {
	Board   string             `json:"board"`
	Player  string             `json:"player"`
	Players []event.PlayerData `json:"players"`
}

// around is a player with up to n players above and n below, ranked.
func (s *Server) around(c echo.Context) error {
	n, err := queryInt(c, "n", 5, 0, MaxAround)
	if err != nil {
		return err
	}
	board, player := c.Param("board"), c.Param("player")
	players, err := s.store.Players.Around(c.Request().Context(), board, player, n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, aroundPage{Board: board, Player: player, Players: playerList(players)})
}

type scoreRequest struct {
	Score    *number         `json:"score"`
	Metadata *map[string]any `json:"metadata"`
}

// writeScore applies the board's operator: adds the score ("incr"), keeps
// the better one ("best") or replaces it ("set").
func (s *Server) writeScore(c echo.Context) error {
	var req scoreRequest
	if _, err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Score == nil {
		return badRequest(`field "score" is required`)
	}
	score, err := parseInteger("score", string(*req.Score), models.MaxScore)
	if err != nil {
		return err
	}
	w := models.ScoreWrite{Value: score}
	if req.Metadata != nil {
		w.Metadata = *req.Metadata
	}
	p, err := s.store.Players.WriteScore(c.Request().Context(), c.Param("board"), c.Param("player"), w)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, event.NewPlayerData(p))
}

type batchItem struct {
	Player   *string         `json:"player"`
	Amount   *number         `json:"amount"`
	Score    *number         `json:"score"`
	Metadata *map[string]any `json:"metadata"`
}

// batchResult is one item's outcome: the player after its write, or the
// item's own error with the status it would have had on its own.
type batchResult struct {
	Player string            `json:"player"`
	Status int               `json:"status"`
	Result *event.PlayerData `json:"result,omitempty"`
	Error  string            `json:"error,omitempty"`
}

type batchResponse struct {
	Results []batchResult `json:"results"`
}

// batchScores applies up to MaxBatch score writes, in order, each atomic on
// its own: {"player", "amount"} adds, {"player", "score"} applies the
// board's operator. A malformed body is refused whole (nothing written); an
// item that fails on its own (an unknown player, a score out of range) has
// its error in its result, and the others are written.
func (s *Server) batchScores(c echo.Context) error {
	items, err := decodeBatch(c)
	if err != nil {
		return err
	}
	writes := make([]models.ScoreWrite, len(items))
	for i, it := range items {
		w, err := it.write()
		if err != nil {
			return badRequest(fmt.Sprintf("item %d: %s", i, httpMessage(err)))
		}
		writes[i] = w
	}
	ctx := c.Request().Context()
	board := c.Param("board")
	if _, err := s.store.Boards.Get(ctx, board); err != nil {
		return err
	}
	out := batchResponse{Results: make([]batchResult, len(items))}
	for i, it := range items {
		res := batchResult{Player: *it.Player}
		p, err := s.store.Players.WriteScore(ctx, board, *it.Player, writes[i])
		if err != nil {
			if !isDomain(err) {
				return err
			}
			res.Status, res.Error = domainStatus(err)
		} else {
			data := event.NewPlayerData(p)
			res.Status, res.Result = http.StatusOK, &data
		}
		out.Results[i] = res
	}
	return c.JSON(http.StatusOK, out)
}

func (it batchItem) write() (models.ScoreWrite, error) {
	switch {
	case it.Player == nil:
		return models.ScoreWrite{}, badRequest(`field "player" is required`)
	case (it.Amount == nil) == (it.Score == nil):
		return models.ScoreWrite{}, badRequest(`give exactly one of "amount" and "score"`)
	}
	var w models.ScoreWrite
	var err error
	if it.Amount != nil {
		w.Op = models.OperatorIncr
		w.Value, err = parseInteger("amount", string(*it.Amount), models.MaxAmount)
	} else {
		w.Value, err = parseInteger("score", string(*it.Score), models.MaxScore)
	}
	if it.Metadata != nil {
		w.Metadata = *it.Metadata
	}
	return w, err
}

// httpMessage is the sentence of an error made by badRequest.
func httpMessage(err error) string {
	if he, ok := err.(*echo.HTTPError); ok {
		if m, ok := he.Message.(string); ok {
			return m
		}
	}
	return err.Error()
}

// decodeBatch reads a JSON array of at most MaxBatch objects, each as
// strictly as decodeBody reads one.
func decodeBatch(c echo.Context) ([]batchItem, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, bodyReadError(err)
	}
	if !utf8.Valid(body) {
		return nil, badRequest("request body must be valid UTF-8")
	}
	var raws []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raws); err != nil {
		return nil, badRequest("request body must be a JSON array of objects")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("request body must hold a single JSON array")
	}
	switch {
	case raws == nil:
		return nil, badRequest("request body must be a JSON array of objects")
	case len(raws) == 0:
		return nil, badRequest("give at least one item")
	case len(raws) > MaxBatch:
		return nil, badRequest(fmt.Sprintf("give at most %d items (got %d)", MaxBatch, len(raws)))
	}
	items := make([]batchItem, len(raws))
	fields := jsonFieldNames(&batchItem{})
	for i, raw := range raws {
		if err := checkObject(raw, fields); err != nil {
			return nil, badRequest(fmt.Sprintf("item %d: %s", i, httpMessage(err)))
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		d.UseNumber()
		if err := d.Decode(&items[i]); err != nil {
			return nil, badRequest(fmt.Sprintf("item %d: %s", i, describeJSONError(err)))
		}
	}
	return items, nil
}

// periodData is GET /boards/{board}/?period=previous: the last finished
// period's final standings.
type periodData struct {
	ID      string             `json:"id"`
	Name    string             `json:"name"`
	Period  int                `json:"period"`
	EndedAt time.Time          `json:"ended_at"`
	Players []event.PlayerData `json:"players"`
}

func (s *Server) previousPeriod(c echo.Context, id string, limit int) error {
	if p := c.QueryParam("period"); p != "previous" {
		return badRequest(`period must be "previous"`)
	}
	ctx := c.Request().Context()
	board, err := s.store.Boards.Get(ctx, id)
	if err != nil {
		return err
	}
	period, err := s.store.Boards.Previous(ctx, id)
	if err != nil {
		return err
	}
	top := period.Top
	if len(top) > limit {
		top = top[:limit]
	}
	return c.JSON(http.StatusOK, periodData{
		ID: board.ID, Name: board.Name, Period: period.Period, EndedAt: period.EndedAt.UTC(), Players: playerList(top),
	})
}
