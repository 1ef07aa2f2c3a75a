package minirethink

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Every test of this package runs its body twice, as miniredis's integration
// suite does: against the embedded server and against a real RethinkDB, so
// the two are held to the same answers. The real one is optional:
//
//	RETHINKDB_TEST_ADDR=127.0.0.1:28015 [RETHINKDB_TEST_PASSWORD=...] go test -race ./minirethink/
const (
	envAddr     = "RETHINKDB_TEST_ADDR"
	envPassword = "RETHINKDB_TEST_PASSWORD"
)

// target is one server a test body runs against.
type target struct {
	// Srv is the embedded server, nil for a real RethinkDB.
	Srv      *Server
	Addr     string
	Password string
}

// Connect opens a driver session to the target as admin, closed when the
// test ends; opts may adjust the defaults.
func (tg target) Connect(t testing.TB, opts ...func(*r.ConnectOpts)) *r.Session {
	t.Helper()
	session, err := r.Connect(tg.connectOpts(opts...))
	require.NoError(t, err, "connect to %s", tg.Addr)
	t.Cleanup(func() { _ = session.Close() })
	return session
}

func (tg target) connectOpts(opts ...func(*r.ConnectOpts)) r.ConnectOpts {
	o := r.ConnectOpts{
		Address:  tg.Addr,
		Password: tg.Password,
		// No ReadTimeout: it would kill changefeeds (see LIBRARIES.md).
		Timeout: 5 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// eachTarget runs body against the embedded server and, when RETHINKDB_TEST_ADDR
// is set, against that real RethinkDB, as subtests "embedded" and "rethinkdb".
// Use it for tests that need no database; the others use eachServer.
func eachTarget(t *testing.T, body func(t *testing.T, tg target)) {
	t.Helper()
	t.Run("embedded", func(t *testing.T) {
		srv := RunT(t)
		body(t, target{Srv: srv, Addr: srv.Addr()})
	})
	t.Run("rethinkdb", func(t *testing.T) {
		addr := os.Getenv(envAddr)
		if addr == "" {
			t.Skipf("no real RethinkDB: set %s=host:port (and %s if admin has a password) to run this half against one",
				envAddr, envPassword)
		}
		body(t, target{Addr: addr, Password: os.Getenv(envPassword)})
	})
}

// eachServer runs body against the embedded server and, when
// RETHINKDB_TEST_ADDR is set, against that real RethinkDB (subtests
// "embedded" and "rethinkdb"). Each run gets a fresh database, dropped when
// the test ends, and a session using it as default.
func eachServer(t *testing.T, body func(t *testing.T, s *r.Session, db string)) {
	t.Helper()
	eachTarget(t, func(t *testing.T, tg target) {
		session, db := withDatabase(t, tg)
		body(t, session, db)
	})
}

// embedded starts an embedded server with a fresh database and a session
// using it, for tests that need the server itself (Restart, Close).
func embedded(t *testing.T, opts ...Option) (*Server, *r.Session, string) {
	t.Helper()
	srv := RunT(t, opts...)
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	session, db := withDatabase(t, target{Srv: srv, Addr: srv.Addr(), Password: o.password})
	return srv, session, db
}

func withDatabase(t *testing.T, tg target) (*r.Session, string) {
	t.Helper()
	db := uniqueDBName(t)
	admin := tg.Connect(t)
	_, err := r.DBCreate(db).RunWrite(admin)
	require.NoError(t, err, "create test database %s", db)
	t.Cleanup(func() {
		// A test may have restarted or closed the embedded server; the
		// database goes with it then.
		if _, err := r.DBDrop(db).RunWrite(admin); err != nil && tg.Srv == nil {
			t.Errorf("drop test database %s: %v", db, err)
		}
	})
	return tg.Connect(t, func(o *r.ConnectOpts) { o.Database = db }), db
}

var notDBName = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// uniqueDBName is a database name saying which test made it, unique across
// runs so that tests against a shared real server never collide.
func uniqueDBName(t testing.TB) string {
	name := notDBName.ReplaceAllString(t.Name(), "_")
	name = strings.Trim(name, "_")
	if len(name) > 40 {
		name = name[:40]
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "mrt_" + name + "_" + hex.EncodeToString(b)
}
