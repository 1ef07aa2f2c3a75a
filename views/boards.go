package views

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/models"
)

// boardSummary is one board in GET /boards/.
type boardSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type boardList struct {
	Boards []boardSummary `json:"boards"`
	// Next is the URL of the next page, null on the last.
	Next *string `json:"next"`
}

func boardPath(id string) string { return "/boards/" + url.PathEscape(id) + "/" }

func (s *Server) getBoard(c echo.Context) error {
	id := c.Param("board")
	if wantsStream(c.Request()) {
		return s.streamBoard(c, id)
	}
	limit, err := queryInt(c, "limit", s.topN, 1, MaxLimit)
	if err != nil {
		return err
	}
	if _, ok := c.QueryParams()["period"]; ok {
		return s.previousPeriod(c, id, limit)
	}
	handled, gen, err := s.cachedBoard(c, id, limit)
	if handled || err != nil {
		return err
	}
	ctx := c.Request().Context()
	board, err := s.store.Boards.Get(ctx, id)
	if err != nil {
		return err
	}
	s.fillBoard(gen, limit, board)
	// The live index, not the materialized top: a client that just added
	// to a score sees it at once, whether or not the listener runs.
	top, err := s.store.Players.TopForBoard(ctx, id, limit)
	if err != nil {
		return err
	}
	// As a cached answer says: a board changes, so a stored copy must be
	// revalidated.
	c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	return c.JSON(http.StatusOK, event.NewBoardData(board, top))
}

// wantsStream: text/event-stream anywhere in Accept (the original looked only
// at the first entry), or ?stream=1.
func wantsStream(r *http.Request) bool {
	if v := r.URL.Query().Get("stream"); v == "1" || v == "true" {
		return true
	}
	for _, accept := range r.Header.Values("Accept") {
		for _, part := range strings.Split(accept, ",") {
			mediaType, _, _ := strings.Cut(part, ";")
			if strings.EqualFold(strings.TrimSpace(mediaType), "text/event-stream") {
				return true
			}
		}
	}
	return false
}

func (s *Server) listBoards(c echo.Context) error {
	limit, err := queryInt(c, "limit", 20, 1, MaxLimit)
	if err != nil {
		return err
	}
	after := c.QueryParam("after")
	if len(after) > 127 {
		return badRequest("after must be a board id")
	}
	boards, err := s.store.Boards.List(c.Request().Context(), after, limit+1)
	if err != nil {
		return err
	}
	out := boardList{Boards: make([]boardSummary, 0, len(boards))}
	for i, b := range boards {
		if i == limit {
			next := "/boards/?limit=" + strconv.Itoa(limit) + "&after=" + url.QueryEscape(boards[i-1].ID)
			out.Next = &next
			break
		}
		out.Boards = append(out.Boards, boardSummary{ID: b.ID, Name: b.Name, CreatedAt: b.CreatedAt.UTC()})
	}
	return c.JSON(http.StatusOK, out)
}

type createBoardRequest struct {
	Name     *string `json:"name"`
	Order    *string `json:"order"`
	Operator *string `json:"operator"`
	Reset    *string `json:"reset"`
	ResetTZ  *string `json:"reset_tz"`
}

func (s *Server) createBoard(c echo.Context) error {
	var req createBoardRequest
	if _, err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return badRequest(`field "name" is required`)
	}
	board := models.Board{Name: *req.Name}
	for _, opt := range []struct {
		from *string
		to   *string
	}{{req.Order, &board.Order}, {req.Operator, &board.Operator}, {req.Reset, &board.Reset}, {req.ResetTZ, &board.ResetTZ}} {
		if opt.from != nil {
			*opt.to = *opt.from
		}
	}
	if err := s.store.Boards.Save(c.Request().Context(), &board); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, boardPath(board.ID))
	return c.JSON(http.StatusCreated, event.NewBoardData(&board, nil))
}

func (s *Server) deleteBoard(c echo.Context) error {
	id := c.Param("board")
	if err := s.store.Boards.Delete(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
