package models

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseURL(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	tests := []struct {
		url     string
		want    ConnConfig
		wantErr string
	}{
		{url: "rethinkdb://localhost/leaderboard", want: ConnConfig{Address: "localhost:28015", Database: "leaderboard", Username: "admin"}},
		{url: "rethinkdb://bob:pw@db.example:29015/lb", want: ConnConfig{Address: "db.example:29015", Database: "lb", Username: "bob", Password: "pw"}},
		{url: "rethinkdb://bob@[::1]/lb", want: ConnConfig{Address: "[::1]:28015", Database: "lb", Username: "bob"}},
		{url: "postgres://localhost/lb", wantErr: "scheme must be rethinkdb://"},
		{url: "rethinkdb:///lb", wantErr: "missing host"},
		{url: "rethinkdb://localhost/", wantErr: "database name"},
		{url: "rethinkdb://localhost/bad.name", wantErr: "database name"},
		{url: "::", wantErr: "DATABASE_URL"},
		{url: "rethinkdbs://db.example/lb", want: ConnConfig{Address: "db.example:28015", Database: "lb", Username: "admin",
			TLS: &tls.Config{ServerName: "db.example", MinVersion: tls.VersionTLS12}}},
		{url: "rethinkdbs://db.example/lb?ca=/nonexistent/ca.pem", wantErr: "ca: open /nonexistent/ca.pem"},
		{url: "rethinkdbs://db.example/lb?ca=" + notPEM, wantErr: "holds no PEM certificate"},
		{url: "rethinkdb://db.example/lb?ca=/etc/ca.pem", wantErr: "ca= needs TLS: use rethinkdbs://"},
		{url: "rethinkdbs://db.example/lb?sslmode=verify", wantErr: `unknown parameter "sslmode"`},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseURL(tt.url)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.NotContains(t, err.Error(), "pw")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAssignRanksSharesRankOnExactTies(t *testing.T) {
	players := []Player{
		{Score: 10, ReachedAt: 1}, {Score: 5, ReachedAt: 1}, {Score: 5, ReachedAt: 1}, {Score: 5, ReachedAt: 2}, {Score: 1},
	}
	tests := []struct {
		name       string
		first, pos int
		want       []int
	}{
		{"first page", 1, 1, []int{1, 2, 2, 4, 5}},
		{"a later page", 11, 11, []int{11, 12, 12, 14, 15}},
		{"a later page starting in a tie", 9, 11, []int{9, 12, 12, 14, 15}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assignRanks(players, tt.first, tt.pos)
			var ranks []int
			for _, p := range players {
				ranks = append(ranks, p.Rank)
			}
			assert.Equal(t, tt.want, ranks)
		})
	}
}
