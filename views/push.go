package views

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/leaderboardhq/leaderboard/models"
	"github.com/leaderboardhq/leaderboard/pushhub"
	"github.com/leaderboardhq/leaderboard/wspark"
)

// PushConfig is what the push API needs.
type PushConfig struct {
	Push *models.Push
	Hub  *pushhub.Hub
	// Sockets serves the WebSockets (GET /ws); its owner closes it on
	// shutdown, and its KeepAlive and WriteTimeout are the sockets'.
	Sockets *wspark.Server
	// TokenTTL is a token's life when POST /users gives no ttl.
	TokenTTL time.Duration
	// Origins are CORS_ORIGINS: the origins whose pages may open
	// WebSockets ("*": any); empty means same-origin only.
	Origins []string
	// KeepAlive is how often idle SSE channel streams get a comment.
	KeepAlive time.Duration
	// WriteTimeout drops an SSE client whose one write takes longer.
	// Default 10s.
	WriteTimeout time.Duration
}

// pushServer is the push API's state.
type pushServer struct {
	PushConfig
	anyOrigin bool
	origins   []string
}

// Push API limits.
const (
	// maxClientMessage bounds a WebSocket message from a client.
	maxClientMessage = 64 << 10
	// maxTTLSeconds bounds "ttl" in POST /users.
	maxTTLSeconds = int64(models.MaxTokenTTL / time.Second)
)

// pushRoutes registers the push API when cfg is set.
func (s *Server) pushRoutes(cfg *PushConfig, write echo.MiddlewareFunc) error {
	if cfg == nil {
		return nil
	}
	if cfg.Push == nil || cfg.Hub == nil || cfg.Sockets == nil || cfg.TokenTTL <= 0 || cfg.KeepAlive <= 0 {
		return errors.New("views: PushConfig needs Push, Hub, Sockets, TokenTTL and KeepAlive")
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	p := &pushServer{PushConfig: *cfg}
	for _, o := range cfg.Origins {
		o = strings.TrimSpace(o)
		switch {
		case o == "":
			continue
		case o == "*":
			p.anyOrigin = true
			continue
		}
		if _, err := path.Match(strings.ToLower(o), ""); err != nil {
			return fmt.Errorf("CORS_ORIGINS: bad pattern %q: %w", o, err)
		}
		p.origins = append(p.origins, o)
	}
	s.push = p

	e := s.echo
	e.POST("/users", s.registerUser, write)
	e.GET("/users", s.listUsers, write)
	e.GET("/users/:user", s.getUser, write)
	e.DELETE("/users/:user", s.deleteUser, write)
	e.POST("/channels", s.createChannel, write)
	e.GET("/channels", s.listChannels, write)
	e.GET("/channels/:channel", s.getChannel, write)
	e.DELETE("/channels/:channel", s.deleteChannel, write)
	e.POST("/channels/:channel/members", s.addMember, write)
	e.DELETE("/channels/:channel/members/:user", s.removeMember, write)
	e.POST("/events", s.postEvent, write)
	// Clients: the token is the credential.
	e.GET("/ws", s.pushSocket)
	e.GET("/channels/:channel/events", s.channelStream)
	return nil
}

// clientSession checks a client's token: ?token= (browsers' WebSocket and
// EventSource cannot set headers) or X-Rethinkpush-Key.
func (s *Server) clientSession(c echo.Context) (*models.Session, error) {
	token := c.QueryParam("token")
	if token == "" {
		token = c.Request().Header.Get(pushKeyHeader)
	}
	return s.push.Push.Tokens.Check(c.Request().Context(), token)
}

// originAllowed applies coder/websocket's origin rule before the upgrade,
// so a refusal is a JSON error like every other: no Origin (not a
// browser), the same host, or a CORS_ORIGINS pattern (matched against the
// origin's host, or scheme://host when it has a scheme).
func (p *pushServer) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || p.anyOrigin {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(r.Host, u.Host) {
		return true
	}
	for _, pattern := range p.origins {
		target := u.Host
		if strings.Contains(pattern, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}

// pageLimit reads ?limit= and ?after= of a list.
func pageLimit(c echo.Context) (int, string, error) {
	limit, err := queryInt(c, "limit", 20, 1, MaxLimit)
	if err != nil {
		return 0, "", err
	}
	after := c.QueryParam("after")
	if len(after) > 127 {
		return 0, "", badRequest("after must be an id")
	}
	return limit, after, nil
}

// nextPage is the URL of the page after one that ended with id last, or nil.
func nextPage(base string, limit int, more bool, last string) *string {
	if !more {
		return nil
	}
	next := base + "?limit=" + strconv.Itoa(limit) + "&after=" + url.QueryEscape(last)
	return &next
}
