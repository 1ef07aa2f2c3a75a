// Package config reads the service's settings from environment variables, the
// only way both processes are configured (Heroku-style). .env.example
// documents each one.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
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
	// DataDir, in embedded mode, is where the embedded database keeps its
	// data (created if needed; one process at a time): every acknowledged
	// write survives a crash and a restart. Empty: in memory, gone when web
	// stops.
	DataDir string `envconfig:"DATA_DIR"`
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
	// HeartbeatInterval is how often the listener records that it is alive,
	// and how often web checks that record.
	HeartbeatInterval time.Duration `envconfig:"HEARTBEAT_INTERVAL"`
	// HeartbeatStaleAfter is how old the listener's last heartbeat may get
	// before web reports the worker gone (/readyz 503, one log line). The
	// listener writes it into each heartbeat, so it is the worker's setting.
	HeartbeatStaleAfter time.Duration `envconfig:"HEARTBEAT_STALE_AFTER"`
	// KeepAliveInterval is the SSE keep-alive comment interval.
	KeepAliveInterval time.Duration `envconfig:"KEEPALIVE_INTERVAL"`
	// MaxStreams caps the live streams (SSE and WebSocket) web holds; 0 means
	// three quarters of the process's file limit, leaving the rest for health
	// checks, writes and the database.
	MaxStreams int `envconfig:"MAX_STREAMS"`
	// MaxStreamsPerClient caps the live streams of one client address.
	MaxStreamsPerClient int `envconfig:"MAX_STREAMS_PER_CLIENT"`
	// StreamWriteTimeout drops a stream subscriber whose write blocks longer.
	StreamWriteTimeout time.Duration `envconfig:"STREAM_WRITE_TIMEOUT"`
	// StreamSendBuffer is the kernel send buffer of a stream's connection, in
	// bytes: with StreamWriteTimeout it bounds how long a client that stopped
	// reading is held.
	StreamSendBuffer int `envconfig:"STREAM_SEND_BUFFER"`
	// RateLimitWrites is how many writes a second one API key, and one client
	// address, may make (bursts of as many); 0 turns it off.
	RateLimitWrites int `envconfig:"RATE_LIMIT_WRITES"`
	// RateLimitStreams is how many streams a second one client address may
	// open; 0 turns it off.
	RateLimitStreams int `envconfig:"RATE_LIMIT_STREAMS"`
	// TrustedProxies are the proxies (CIDRs, comma-separated) whose
	// X-Forwarded-For names the client; without them it is ignored.
	TrustedProxies []string `envconfig:"TRUSTED_PROXIES"`
	// MetricsToken, if set, is the bearer token /metrics requires.
	MetricsToken string `envconfig:"METRICS_TOKEN"`
	// MetricsAddr is where dblistener serves /metrics (host:port); empty:
	// nowhere. web serves it on its own port.
	MetricsAddr string `envconfig:"METRICS_ADDR"`
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
	// CORSOrigins are the other sites (scheme://host[:port], comma-separated)
	// whose pages may write; the service's own pages always may. "*" never
	// opens writes to every site.
	CORSOrigins []string `envconfig:"CORS_ORIGINS"`
}

// Defaults is the configuration with no environment variable set: the one
// place the service's defaults are written (.env.example repeats them for
// operators).
func Defaults() Config {
	return Config{
		Port:                5000,
		EmbeddedDatabase:    "leaderboard",
		TopN:                5,
		PublishInterval:     50 * time.Millisecond,
		HeartbeatInterval:   5 * time.Second,
		HeartbeatStaleAfter: 15 * time.Second,
		KeepAliveInterval:   20 * time.Second,
		MaxStreams:          0,
		MaxStreamsPerClient: 256,
		StreamWriteTimeout:  5 * time.Second,
		StreamSendBuffer:    64 << 10,
		RateLimitWrites:     100,
		RateLimitStreams:    10,
		QueryTimeout:        5 * time.Second,
		RequestTimeout:      15 * time.Second,
		ShutdownTimeout:     10 * time.Second,
		LogLevel:            "info",
		LogFormat:           "json",
		TokenTTL:            24 * time.Hour,
		HistorySize:         100,
		HistoryTTL:          24 * time.Hour,
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
	c.CORSOrigins = trimmed(c.CORSOrigins)
	return c, c.validate()
}

// trimmed drops the blanks around and between comma-separated values.
func trimmed(values []string) []string {
	out := values[:0]
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// isOrigin: "*", or scheme://host[:port] (a trailing slash is forgiven).
func isOrigin(s string) bool {
	if s == "*" {
		return true
	}
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	return err == nil && u.Scheme != "" && u.Host != "" && u.User == nil &&
		u.Path == "" && u.RawQuery == "" && u.Fragment == ""
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
	check(c.DataDir == "" || c.DatabaseURL == "",
		"DATA_DIR keeps the embedded database's data; with DATABASE_URL the data is that server's: unset one of them")
	check(c.TopN >= 1 && c.TopN <= 100, "TOP_N must be 1-100, got %d", c.TopN)
	check(c.PublishInterval >= time.Millisecond, "PUBLISH_INTERVAL must be at least 1ms, got %s", c.PublishInterval)
	check(c.HeartbeatInterval >= 10*time.Millisecond, "HEARTBEAT_INTERVAL must be at least 10ms, got %s", c.HeartbeatInterval)
	check(c.HeartbeatStaleAfter > c.HeartbeatInterval, "HEARTBEAT_STALE_AFTER must be longer than HEARTBEAT_INTERVAL (%s), got %s",
		c.HeartbeatInterval, c.HeartbeatStaleAfter)
	check(c.KeepAliveInterval >= time.Second, "KEEPALIVE_INTERVAL must be at least 1s, got %s", c.KeepAliveInterval)
	check(c.MaxStreams >= 0, "MAX_STREAMS must be 0 (from the file limit) or more, got %d", c.MaxStreams)
	check(c.MaxStreamsPerClient >= 1, "MAX_STREAMS_PER_CLIENT must be at least 1, got %d", c.MaxStreamsPerClient)
	check(c.StreamWriteTimeout >= 100*time.Millisecond, "STREAM_WRITE_TIMEOUT must be at least 100ms, got %s", c.StreamWriteTimeout)
	check(c.StreamSendBuffer >= 4096, "STREAM_SEND_BUFFER must be at least 4096 bytes, got %d", c.StreamSendBuffer)
	check(c.RateLimitWrites >= 0, "RATE_LIMIT_WRITES must be 0 (off) or more, got %d", c.RateLimitWrites)
	check(c.RateLimitStreams >= 0, "RATE_LIMIT_STREAMS must be 0 (off) or more, got %d", c.RateLimitStreams)
	_, err := c.TrustedNets()
	check(err == nil, "%v", err)
	check(c.QueryTimeout > 0, "QUERY_TIMEOUT must be positive")
	check(c.RequestTimeout > 0, "REQUEST_TIMEOUT must be positive")
	check(c.ShutdownTimeout > 0, "SHUTDOWN_TIMEOUT must be positive")
	_, err = c.level()
	check(err == nil, "LOG_LEVEL must be debug, info, warn or error, got %q", c.LogLevel)
	check(c.LogFormat == "json" || c.LogFormat == "text", "LOG_FORMAT must be json or text, got %q", c.LogFormat)
	for _, o := range c.CORSOrigins {
		check(isOrigin(o), "CORS_ORIGINS must be * or scheme://host[:port] entries, got %q", o)
	}
	check(c.TokenTTL >= time.Second && c.TokenTTL <= 30*24*time.Hour, "TOKEN_TTL must be 1s to 720h, got %s", c.TokenTTL)
	check(c.HistorySize >= 1 && c.HistorySize <= 10000, "HISTORY_SIZE must be 1-10000, got %d", c.HistorySize)
	check(c.HistoryTTL >= time.Second, "HISTORY_TTL must be at least 1s, got %s", c.HistoryTTL)
	return errors.Join(errs...)
}

// Embedded reports whether web runs its own database (in memory, or in
// DATA_DIR).
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// TrustedNets parses TRUSTED_PROXIES: CIDRs, or single addresses.
func (c Config) TrustedNets() ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, p := range c.TrustedProxies {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.Contains(p, "/") {
			ip := net.ParseIP(p)
			if ip == nil {
				return nil, fmt.Errorf("TRUSTED_PROXIES: %q is neither an address nor a CIDR", p)
			}
			bits := 8 * len(ip.To16())
			if ip.To4() != nil {
				ip, bits = ip.To4(), 32
			}
			nets = append(nets, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("TRUSTED_PROXIES: %q is neither an address nor a CIDR", p)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

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
	return c.logger(os.Stdout, process)
}

func (c Config) logger(w io.Writer, process string) *slog.Logger {
	level, _ := c.level()
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: readableDurations}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if c.LogFormat == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h).With("process", process)
}

// readableDurations writes durations as people read them ("1.5s"): the JSON
// handler would write them as bare nanoseconds.
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}
