package minirethink

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// indexQuerySamples reads testdata/index-status-query-2.4.4.txt, the
// `query` of index_status from a real RethinkDB 2.4.4 for four index
// functions: index name to the query, its lines joined by "\n".
func indexQuerySamples(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("testdata/index-status-query-2.4.4.txt")
	require.NoError(t, err)
	defer f.Close()
	header := regexp.MustCompile(`^--- index "(\w+)"`)
	samples := map[string]string{}
	var name string
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := header.FindStringSubmatch(line); m != nil {
			name, lines = m[1], nil
			continue
		}
		if name == "" || !strings.HasSuffix(line, "$") {
			continue
		}
		lines = append(lines, strings.TrimSuffix(line, "$"))
		samples[name] = strings.Join(lines, "\n")
	}
	require.NoError(t, sc.Err())
	require.Len(t, samples, 4)
	return samples
}

var varName = regexp.MustCompile(`\bvar\d+\b`)

// sameVariable replaces the variable of a one-parameter function by "varN"
// and checks it is one variable throughout: its number is the driver's
// counter, which differs from run to run.
func sameVariable(t *testing.T, query string) string {
	t.Helper()
	vars := map[string]bool{}
	for _, v := range varName.FindAllString(query, -1) {
		vars[v] = true
	}
	assert.Len(t, vars, 1, "one variable in %q", query)
	return varName.ReplaceAllString(query, "varN")
}

// TestIndexStatusQueryLayout holds index_status's `query` to real RethinkDB
// 2.4.4's, line breaks included: the function body is laid out by an
// 80-column pretty printer.
func TestIndexStatusQueryLayout(t *testing.T) {
	samples := indexQuerySamples(t)
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		players := createTestTable(t, s, db, "players")
		indexes := map[string]func(p r.Term) any{
			"short": func(p r.Term) any { return p.Field("a") },
			"mid":   func(p r.Term) any { return []any{p.Field("board"), p.Field("score")} },
			"rank": func(p r.Term) any {
				return []any{p.Field("board"), p.Field("score"), p.Field("reached_at").Mul(-1)}
			},
			"long": func(p r.Term) any {
				return []any{p.Field("aaaaaaaaaaaaaaaaaaaa"), p.Field("bbbbbbbbbbbbbbbbbbbbbbbbbbb"),
					p.Field("ccccccccccccccccccccccc").Mul(-1), p.Field("ddddddddddddddd").Add(1)}
			},
		}
		for name, fn := range indexes {
			_, err := players.IndexCreateFunc(name, fn).RunWrite(s)
			require.NoError(t, err, name)
		}
		var statuses []map[string]any
		require.NoError(t, players.IndexWait().ReadAll(&statuses, s))
		require.Len(t, statuses, 4)
		for _, st := range statuses {
			name := st["index"].(string)
			assert.Equal(t, sameVariable(t, samples[name]), sameVariable(t, st["query"].(string)), "index %s", name)
		}
	})
}
