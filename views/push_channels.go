package views

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/models"
)

type channelData struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

type channelList struct {
	Channels []channelData `json:"channels"`
	Next     *string       `json:"next"`
}

func newChannelData(ch *models.Channel) channelData {
	return channelData{ID: ch.ID, Name: ch.Name, Type: ch.Type}
}

func channelPath(id string) string { return "/channels/" + url.PathEscape(id) + "/" }

type createChannelRequest struct {
	Name *string `json:"name"`
	Type *string `json:"type"`
}

func (s *Server) createChannel(c echo.Context) error {
	var req createChannelRequest
	if _, err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		return badRequest(`field "name" is required`)
	}
	if req.Type == nil {
		return badRequest(`field "type" is required`)
	}
	ch, err := s.push.Push.Channels.Create(c.Request().Context(), *req.Name, *req.Type)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, channelPath(ch.ID))
	return c.JSON(http.StatusCreated, newChannelData(ch))
}

func (s *Server) getChannel(c echo.Context) error {
	ch, err := s.push.Push.Channels.Get(c.Request().Context(), c.Param("channel"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newChannelData(ch))
}

func (s *Server) listChannels(c echo.Context) error {
	limit, after, err := pageLimit(c)
	if err != nil {
		return err
	}
	chans, err := s.push.Push.Channels.List(c.Request().Context(), after, limit+1)
	if err != nil {
		return err
	}
	more := len(chans) > limit
	chans = chans[:min(len(chans), limit)]
	out := channelList{Channels: make([]channelData, len(chans))}
	for i := range chans {
		out.Channels[i] = newChannelData(&chans[i])
	}
	if len(chans) > 0 {
		out.Next = nextPage("/channels/", limit, more, chans[len(chans)-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) deleteChannel(c echo.Context) error {
	if err := s.push.Push.Channels.Delete(c.Request().Context(), c.Param("channel")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type addMemberRequest struct {
	User *string `json:"user"`
}

func (s *Server) addMember(c echo.Context) error {
	var req addMemberRequest
	if _, err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.User == nil {
		return badRequest(`field "user" is required`)
	}
	if err := s.push.Push.Members.Add(c.Request().Context(), c.Param("channel"), *req.User); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) removeMember(c echo.Context) error {
	if err := s.push.Push.Members.Remove(c.Request().Context(), c.Param("channel"), c.Param("user")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
