package e2e_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/config"
	"github.com/leaderboardhq/leaderboard/internal/app"
	"github.com/leaderboardhq/leaderboard/internal/testapp"
	"github.com/leaderboardhq/leaderboard/minirethink"
	"github.com/leaderboardhq/leaderboard/models"
)

// Both processes reach a database that speaks TLS (rethinkdbs://, a private
// CA given as ?ca=), verifying its name; a score-add goes the whole way.
func TestDatabaseOverTLS(t *testing.T) {
	caFile, certFile, keyFile := testapp.TLSFiles(t)
	tlsCfg, err := minirethink.LoadTLS(certFile, keyFile)
	require.NoError(t, err)
	db := minirethink.RunT(t, minirethink.WithTLS(tlsCfg), minirethink.WithPassword("pw"))
	_, port, err := net.SplitHostPort(db.Addr())
	require.NoError(t, err)
	url := "rethinkdbs://admin:pw@localhost:" + port + "/leaderboard?ca=" + caFile

	conn, err := models.ParseURL(url)
	require.NoError(t, err)
	cfg := config.Defaults()
	cfg.PublishInterval = 10 * time.Millisecond
	testapp.StartWorker(t, conn, cfg) // the worker connects over TLS

	web := testapp.Start(t, testapp.Options{Config: func(c *config.Config) { c.DatabaseURL, c.OpenWrites = url, true }})
	b, ids := web.Board(t, "Cup", "Ann")
	s := testapp.OpenStream(t, web.Client(), web.URL+"/boards/"+b+"/")
	require.Equal(t, http.StatusOK, web.Do(t, "POST", "/boards/"+b+"/players/"+ids[0]+"/score-add/?amount=2", nil).Status)
	testapp.Until(t, s, testapp.ScoreIs("Ann", 2, 1))
}

// A server whose certificate another CA signed is refused, with an error
// that says what to check; so is plain TCP to a TLS port and a name the
// certificate does not carry.
func TestDatabaseOverTLSRefusesAnUntrustedServer(t *testing.T) {
	_, certFile, keyFile := testapp.TLSFiles(t)
	otherCA, _, _ := testapp.TLSFiles(t)
	tlsCfg, err := minirethink.LoadTLS(certFile, keyFile)
	require.NoError(t, err)
	db := minirethink.RunT(t, minirethink.WithTLS(tlsCfg))
	_, port, err := net.SplitHostPort(db.Addr())
	require.NoError(t, err)

	cfg := testapp.Config(testapp.Options{})
	cfg.DatabaseURL, cfg.OpenWrites = "rethinkdbs://localhost:"+port+"/leaderboard?ca="+otherCA, true
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = app.Start(ctx, cfg, app.Options{Logger: testapp.Logger(), Listener: listen(t)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate is not trusted")
	assert.Contains(t, err.Error(), "?ca=")
}
