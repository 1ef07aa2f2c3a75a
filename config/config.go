// Package config reads the service's settings from environment variables, the
// only way both processes are configured (Heroku-style). .env.example
// documents each one.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/kelseyhightower/envconfig"
)

// Config is every setting of web and dblistener.
type Config struct {
	// Port is the HTTP port of web.
	Port int `envconfig:"PORT"`
	// Host is the interface web listens on; see ListenHost.
	Host string `envconfig:"HOST"`
	// DatabaseURL is rethinkdb://[user[:password]@]host[:port]/dbname. Empty
	// means embedded mode: web starts an in-memory RethinkDB-compatible
	// server and runs the listener in-process.
	DatabaseURL string `envconfig:"DATABASE_URL"`
	// EmbeddedDatabase is the database name used in embedded mode.
	EmbeddedDatabase string `envconfig:"EMBEDDED_DATABASE"`
	// APIKeys are the bearer keys that may write, comma-separated.
	APIKeys []string `envconfig:"API_KEYS"`
	// OpenWrites allows running against a real database with no API_KEYS.
	OpenWrites bool `envconfig:"OPEN_WRITES"`
	// GripURL enables GRIP mode: streams are held by Pushpin / Fanout Cloud.
	GripURL string `envconfig:"GRIP_URL"`
	// TopN is how many players a board shows and streams.
	TopN int `envconfig:"TOP_N"`
	// PublishInterval is the listener's coalescing window per board.
	PublishInterval time.Duration `envconfig:"PUBLISH_INTERVAL"`
	// KeepAliveInterval is the SSE keep-alive comment interval.
	KeepAliveInterval time.Duration `envconfig:"KEEPALIVE_INTERVAL"`
	// QueryTimeout bounds every database query but changefeeds.
	QueryTimeout time.Duration `envconfig:"QUERY_TIMEOUT"`
	// RequestTimeout bounds reading a request and writing its response
	// (streams excepted).
	RequestTimeout time.Duration `envconfig:"REQUEST_TIMEOUT"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `envconfig:"LOG_LEVEL"`
	// LogFormat is json (for log drains) or text (for people).
	LogFormat string `envconfig:"LOG_FORMAT"`
	// TokenTTL is how long a push client token is valid when POST /users
	// gives no ttl.
	TokenTTL time.Duration `envconfig:"TOKEN_TTL"`
	// HistorySize is how many events each push channel keeps for clients
	// that resume.
	HistorySize int `envconfig:"HISTORY_SIZE"`
	// HistoryTTL is how long a push channel keeps an event.
	HistoryTTL time.Duration `envconfig:"HISTORY_TTL"`
	// CORSOrigins are the origins (https://host[:port], or * for any) whose
	// pages may open WebSockets; empty means same-origin only.
	CORSOrigins []string `envconfig:"CORS_ORIGINS"`
}

// Defaults is the configuration with no environment variable set: the one
// place the service's defaults are written (.env.example repeats them for
// operators).
func Defaults() Config {
	return Config{
		Port:              5000,
		EmbeddedDatabase:  "leaderboard",
		TopN:              5,
		PublishInterval:   50 * time.Millisecond,
		KeepAliveInterval: 20 * time.Second,
		QueryTimeout:      5 * time.Second,
		RequestTimeout:    15 * time.Second,
		ShutdownTimeout:   10 * time.Second,
		LogLevel:          "info",
		LogFormat:         "json",
		TokenTTL:          24 * time.Hour,
		HistorySize:       100,
		HistoryTTL:        24 * time.Hour,
	}
}

// Load reads and validates the environment over Defaults.
func Load() (Config, error) {
	c := Defaults()
	// A variable set to "" (as in a .env file copied from .env.example)
	// means "use the default", not "parse the empty string".
	for _, name := range variables() {
		if v, ok := os.LookupEnv(name); ok && strings.TrimSpace(v) == "" {
			os.Unsetenv(name)
		}
	}
	if err := envconfig.Process("", &c); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	keys := c.APIKeys[:0]
	for _, k := range c.APIKeys {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	c.APIKeys = keys
	return c, c.validate()
}

// variables are the environment variables Config reads.
func variables() []string {
	t := reflect.TypeFor[Config]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("envconfig"); name != "" {
			names = append(names, name)
		}
	}
	return names
}

func (c Config) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Port > 0 && c.Port < 65536, "PORT must be 1-65535, got %d", c.Port)
	check(c.TopN >= 1 && c.TopN <= 100, "TOP_N must be 1-100, got %d", c.TopN)
	check(c.PublishInterval >= time.Millisecond, "PUBLISH_INTERVAL must be at least 1ms, got %s", c.PublishInterval)
	check(c.KeepAliveInterval >= time.Second, "KEEPALIVE_INTERVAL must be at least 1s, got %s", c.KeepAliveInterval)
	check(c.QueryTimeout > 0, "QUERY_TIMEOUT must be positive")
	check(c.RequestTimeout > 0, "REQUEST_TIMEOUT must be positive")
	check(c.ShutdownTimeout > 0, "SHUTDOWN_TIMEOUT must be positive")
	_, err := c.level()
	check(err == nil, "LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel)
	check(c.LogFormat == "json" || c.LogFormat == "text", "LOG_FORMAT must be json or text, got %q", c.LogFormat)
	check(c.TokenTTL >= time.Second && c.TokenTTL <= 30*24*time.Hour, "TOKEN_TTL must be 1s to 720h, got %s", c.TokenTTL)
	check(c.HistorySize >= 1 && c.HistorySize <= 10000, "HISTORY_SIZE must be 1-10000, got %d", c.HistorySize)
	check(c.HistoryTTL >= time.Second, "HISTORY_TTL must be at least 1s, got %s", c.HistoryTTL)
	return errors.Join(errs...)
}

// Embedded reports whether web runs its own in-memory database.
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// ListenHost is the interface web binds: HOST if set; otherwise localhost in
// embedded mode (its writes are open and its database a demo, so nothing
// beyond this machine should reach it by accident) and every interface with
// DATABASE_URL (Heroku's router must reach it).
func (c Config) ListenHost() string {
	switch {
	case c.Host != "":
		return c.Host
	case c.Embedded():
		return "localhost"
	}
	return ""
}

// CheckWriteAuth is web's start-up rule: against a real database, writes
// need API_KEYS unless the operator says OPEN_WRITES=true.
func (c Config) CheckWriteAuth() error {
	if c.Embedded() || len(c.APIKeys) > 0 || c.OpenWrites {
		return nil
	}
	return errors.New("refusing to start with DATABASE_URL set and no API_KEYS: anyone could write scores. " +
		"Set API_KEYS to a comma-separated list of secret keys, or OPEN_WRITES=true to run an open demo")
}

func (c Config) level() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	return l, err
}

// Logger builds the process's logger, to stdout as Heroku expects.
func (c Config) Logger(process string) *slog.Logger {
	level, _ := c.level()
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewJSONHandler(os.Stdout, opts)
	if c.LogFormat == "text" {
		h = slog.NewTextHandler(os.Stdout, opts)
	}
	return slog.New(h).With("process", process)
}
