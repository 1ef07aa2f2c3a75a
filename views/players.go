package views

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/event"
	"github.com/leaderboardhq/leaderboard/models"
)

func playerPath(board, id string) string {
	return boardPath(board) + "players/" + url.PathEscape(id) + "/"
}

func (s *Server) getPlayer(c echo.Context) error {
	p, err := s.store.Players.Get(c.Request().Context(), c.Param("board"), c.Param("player"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, event.NewPlayerData(p))
}

type createPlayerRequest struct {
	Name     *string         `json:"name"`
	Score    *number         `json:"score"`
	Metadata *map[string]any `json:"metadata"`
}

func (s *Server) createPlayer(c echo.Context) error {
	var req createPlayerRequest
	if _, err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return badRequest(`field "name" is required`)
	}
	p := models.Player{Board: c.Param("board"), Name: *req.Name}
	if req.Metadata != nil {
		p.Metadata = *req.Metadata
	}
	if req.Score != nil {
		score, err := parseInteger("score", string(*req.Score), models.MaxScore)
		if err != nil {
			return err
		}
		p.Score = score
	}
	if err := s.store.Players.Save(c.Request().Context(), &p); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, playerPath(p.Board, p.ID))
	return c.JSON(http.StatusCreated, event.NewPlayerData(&p))
}

func (s *Server) deletePlayer(c echo.Context) error {
	if err := s.store.Players.Delete(c.Request().Context(), c.Param("board"), c.Param("player")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type scoreAddRequest struct {
	Amount   *number         `json:"amount"`
	Metadata *map[string]any `json:"metadata"`
}

// addScore adds 1, as the original did, or the amount given in a JSON body
// {"amount": n} or as ?amount=n.
func (s *Server) addScore(c echo.Context) error {
	var req scoreAddRequest
	hasBody, err := decodeBody(c, &req)
	if err != nil {
		return err
	}
	query, inQuery := c.QueryParams()["amount"]
	if hasBody && req.Amount != nil && inQuery {
		return badRequest("give amount in the body or in the query, not both")
	}
	raw := "1"
	switch {
	case req.Amount != nil:
		raw = string(*req.Amount)
	case inQuery:
		if len(query) != 1 {
			return badRequest("amount must be given once")
		}
		raw = query[0]
	}
	amount, err := parseInteger("amount", raw, models.MaxAmount)
	if err != nil {
		return err
	}
	w := models.ScoreWrite{Op: models.OperatorIncr, Value: amount}
	if req.Metadata != nil {
		w.Metadata = *req.Metadata
	}
	p, err := s.store.Players.WriteScore(c.Request().Context(), c.Param("board"), c.Param("player"), w)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, event.NewPlayerData(p))
}
