package views

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/models"
)

// Answering GET of a board from memory (package boardcache): the board's
// materialized top, as its streams show it, with an ETag, when no other
// ?limit than TOP_N is asked for and the cache is current; the live index
// otherwise. Writes made through this process (score writes, player creates
// and deletes, board deletes) are read back at once: the store tells the
// cache of each (models.WriteObserver), and the board is read live until its
// cached top shows them.

// cachedBoard answers from the cache when it can (handled). On a miss it
// returns the generation to give fillBoard.
func (s *Server) cachedBoard(c echo.Context, id string, limit int) (handled bool, gen uint64, err error) {
	if s.boards == nil || limit != s.topN {
		return false, 0, nil
	}
	for name := range c.QueryParams() {
		if name != "limit" {
			return false, 0, nil // a parameter the cached answer knows nothing of
		}
	}
	body, etag, gen, ok := s.boards.Get(id)
	if !ok {
		return false, gen, nil
	}
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set(echo.HeaderCacheControl, "no-cache") // may be stored, but revalidated
	if etagMatches(c.Request().Header.Get("If-None-Match"), etag) {
		return true, gen, c.NoContent(http.StatusNotModified)
	}
	return true, gen, c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
}

// fillBoard keeps a board read live after a miss, for the next GET.
func (s *Server) fillBoard(gen uint64, limit int, b *models.Board) {
	if s.boards != nil && limit == s.topN {
		s.boards.Fill(gen, b)
	}
}

// etagMatches is If-None-Match's weak comparison against one strong ETag.
func etagMatches(header, etag string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
		if v == etag || v == "*" {
			return true
		}
	}
	return false
}
