package minirethink

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// These tests hold the protocol layer to the real driver over TCP.

func TestConnectAndQuery(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		s := tg.Connect(t)
		var got map[string]any
		require.NoError(t, r.Expr(map[string]any{"a": []any{1, "x"}, "b": true}).ReadOne(&got, s))
		assert.Equal(t, map[string]any{"a": []any{float64(1), "x"}, "b": true}, got)
	})
}

func TestPassword(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		if tg.Srv != nil {
			tg.Srv.SetPassword("s3cret")
			tg.Password = "s3cret"
		}
		s := tg.Connect(t)
		_, err := s.Server()
		require.NoError(t, err)

		for _, tc := range []struct {
			name, user, password, want string
		}{
			{"wrong password", "", tg.Password + "-wrong", "rethinkdb: Wrong password"},
			{"unknown user", "nobody-" + uniqueDBName(t), "", "rethinkdb: Unknown user"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := r.Connect(tg.connectOpts(func(o *r.ConnectOpts) {
					o.Username, o.Password = tc.user, tc.password
				}))
				var authErr r.RQLAuthError
				require.ErrorAs(t, err, &authErr)
				assert.EqualError(t, err, tc.want)
			})
		}
	})
}

func TestWithPasswordOption(t *testing.T) {
	srv := RunT(t, WithPassword("pw"))
	_, err := r.Connect(r.ConnectOpts{Address: srv.Addr()})
	assert.EqualError(t, err, "rethinkdb: Wrong password")
	s, err := r.Connect(r.ConnectOpts{Address: srv.Addr(), Password: "pw"})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestSetUser(t *testing.T) {
	srv := RunT(t)
	srv.SetUser("bob", "secret")
	s, err := r.Connect(r.ConnectOpts{Address: srv.Addr(), Username: "bob", Password: "secret"})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestServerInfo(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		s := tg.Connect(t)
		info, err := s.Server()
		require.NoError(t, err)
		assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, info.ID)
		assert.NotEmpty(t, info.Name)

		again, err := tg.Connect(t).Server()
		require.NoError(t, err)
		assert.Equal(t, info, again, "one server, one identity, whatever the connection")
	})
}

func TestNoreplyAndNoReplyWait(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		s := tg.Connect(t, func(o *r.ConnectOpts) { o.InitialCap, o.MaxOpen = 1, 1 })
		for i := range 20 {
			require.NoError(t, r.Expr(i).Exec(s, r.ExecOpts{NoReply: true}))
		}
		require.NoError(t, s.NoReplyWait())
		// The noreply queries left nothing behind that a later query could
		// mistake for its answer.
		var got int
		require.NoError(t, r.Expr(42).ReadOne(&got, s))
		assert.Equal(t, 42, got)
	})
}

func TestConcurrentQueriesOnOneConnection(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		s := tg.Connect(t, func(o *r.ConnectOpts) { o.InitialCap, o.MaxOpen = 1, 1 })
		const n = 32
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				var got map[string]any
				if err := r.Expr(map[string]any{"i": i, "s": fmt.Sprint("q", i)}).ReadOne(&got, s); err != nil {
					errs <- err
					return
				}
				if want := map[string]any{"i": float64(i), "s": fmt.Sprint("q", i)}; !assert.ObjectsAreEqual(want, got) {
					errs <- fmt.Errorf("query %d got %v", i, got)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestRestartDropsConnections(t *testing.T) {
	srv := RunT(t)
	addr := srv.Addr()
	tg := target{Srv: srv, Addr: addr}
	pooled := tg.Connect(t, func(o *r.ConnectOpts) { o.InitialCap, o.MaxOpen, o.NumRetries = 1, 1, 1 })
	before, err := pooled.Server()
	require.NoError(t, err)
	// A bare driver connection has no pool to hide the outage behind.
	conn, err := r.NewConnection(addr, &r.ConnectOpts{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = conn.Server()
	require.NoError(t, err)

	require.NoError(t, srv.Restart())
	assert.Equal(t, addr, srv.Addr(), "same address after Restart")

	_, err = conn.Server()
	require.Error(t, err, "a connection from before the restart is dead")
	assert.True(t, isConnectionError(err), "%T: %v", err, err)

	// The pool replaces a broken connection. If the driver has not yet read
	// the EOF when the query goes out, that query fails first; either way
	// the session recovers within a couple of queries.
	var errs []error
	for range 3 {
		err := r.Expr(1).Exec(pooled)
		if err == nil {
			break
		}
		assert.True(t, isConnectionError(err), "%T: %v", err, err)
		errs = append(errs, err)
	}
	require.Less(t, len(errs), 3, "the driver reconnects: %v", errs)

	after, err := pooled.Server()
	require.NoError(t, err)
	assert.Equal(t, before, after, "a restarted server keeps its identity")
}

func TestCloseIsFinal(t *testing.T) {
	srv, err := Run()
	require.NoError(t, err)
	addr := srv.Addr()
	srv.Close()
	srv.Close() // idempotent
	assert.Error(t, srv.Restart())
	_, err = r.Connect(r.ConnectOpts{Address: addr, Timeout: 1e9})
	assert.Error(t, err)
}

func isConnectionError(err error) bool {
	var connErr r.RQLConnectionError
	return errors.As(err, &connErr) || errors.Is(err, r.ErrConnectionClosed)
}
