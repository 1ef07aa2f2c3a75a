package views

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

type registerRequest struct {
	RegisterUser *string `json:"register_user"`
	TTL          *number `json:"ttl"`
}

// registered is POST /users's answer: the only place a token is ever shown.
type registered struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Token    string   `json:"token"`
	ExpireDT int64    `json:"expire_dt"`
	Channels []string `json:"channels"`
}

// userData is a user as GET shows it: never a token.
type userData struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Channels []string `json:"channels"`
}

type userList struct {
	Users []userData `json:"users"`
	Next  *string    `json:"next"`
}

// registerUser registers the app's user (or finds it) and issues a token.
func (s *Server) registerUser(c echo.Context) error {
	var req registerRequest
	if _, err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.RegisterUser == nil {
		return badRequest(`field "register_user" is required`)
	}
	ttl := s.push.TokenTTL
	if req.TTL != nil {
		n, err := parseInteger("ttl", string(*req.TTL), maxTTLSeconds)
		if err != nil || n < 1 {
			return badRequest("ttl must be an integer number of seconds from 1 to 2592000")
		}
		ttl = time.Duration(n) * time.Second
	}
	ctx := c.Request().Context()
	user, err := s.push.Push.Users.Register(ctx, *req.RegisterUser)
	if err != nil {
		return err
	}
	token, expires, err := s.push.Push.Tokens.Issue(ctx, user, ttl)
	if err != nil {
		return err
	}
	chans, err := s.push.Push.Users.Channels(ctx, *user)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, registered{
		ID: user.ID, Username: user.Username, Token: token, ExpireDT: expires, Channels: chans[user.ID],
	})
}

func (s *Server) getUser(c echo.Context) error {
	ctx := c.Request().Context()
	user, err := s.push.Push.Users.Get(ctx, c.Param("user"))
	if err != nil {
		return err
	}
	chans, err := s.push.Push.Users.Channels(ctx, *user)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userData{ID: user.ID, Username: user.Username, Channels: chans[user.ID]})
}

func (s *Server) listUsers(c echo.Context) error {
	limit, after, err := pageLimit(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	users, err := s.push.Push.Users.List(ctx, after, limit+1)
	if err != nil {
		return err
	}
	more := len(users) > limit
	users = users[:min(len(users), limit)]
	chans, err := s.push.Push.Users.Channels(ctx, users...)
	if err != nil {
		return err
	}
	out := userList{Users: make([]userData, len(users))}
	for i, u := range users {
		out.Users[i] = userData{ID: u.ID, Username: u.Username, Channels: chans[u.ID]}
	}
	if len(users) > 0 {
		out.Next = nextPage("/users/", limit, more, users[len(users)-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}

// deleteUser revokes the user's tokens (its connections close) and removes
// it with its memberships.
func (s *Server) deleteUser(c echo.Context) error {
	if err := s.push.Push.Users.Delete(c.Request().Context(), c.Param("user")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
