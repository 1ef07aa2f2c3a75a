package models

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// varID matches a variable's number where a function declares it
// ([69,[[2,[n]]) or uses it ([10,[n]]): the driver numbers them from a
// process-wide counter, so two builds of one query differ only there.
var varID = regexp.MustCompile(`\[(69,\[\[2|10),\[(\d+)\]`)

// normalizeVars renumbers variables in order of appearance.
func normalizeVars(q string) string {
	ids := map[string]int{}
	return varID.ReplaceAllStringFunc(q, func(m string) string {
		sub := varID.FindStringSubmatch(m)
		n, ok := ids[sub[2]]
		if !ok {
			n = len(ids) + 1
			ids[sub[2]] = n
		}
		return "[" + sub[1] + ",[" + strconv.Itoa(n) + "]"
	})
}

func queryJSON(t *testing.T, q r.Term) string {
	t.Helper()
	built, err := q.Build()
	require.NoError(t, err)
	data, err := json.Marshal(built)
	require.NoError(t, err)
	return normalizeVars(string(data))
}

// A prepared score query sends what the driver would build for the same
// write, for every operator, sign and size of value, and any ids.
func TestPreparedScoreQueries(t *testing.T) {
	st := &Store{db: r.DB("lb")}
	st.Boards = &Boards{st: st, table: st.db.Table(boardsTable)}
	p := &Players{st: st, table: st.db.Table(playersTable)}
	ids := [][2]string{
		{"6f1c0c2e-0d6a-4a8e-9a53-1b2c3d4e5f60", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
		{`board "quoted" <&>`, "player \\ \u2028 é"},
	}
	values := []int64{0, 1, -1, 42, -42, MaxAmount, -MaxAmount, MaxAmount + 1, -MaxAmount - 1, MaxScore, -MaxScore}
	for _, op := range []string{"", OperatorIncr, OperatorBest, OperatorSet} {
		for _, v := range values {
			for _, pair := range ids {
				t.Run(fmt.Sprintf("%q/%d/%s", op, v, pair[0]), func(t *testing.T) {
					want := queryJSON(t, p.scoreQuery(pair[0], pair[1], op, valueOf(v), nil))
					prepared, err := p.scoreQueries.fill(p, pair[0], pair[1], op, v)
					require.NoError(t, err)
					got := queryJSON(t, prepared)
					assert.Equal(t, want, got)
				})
			}
		}
	}
	assert.Len(t, p.scoreQueries.shapes, 4*2*2, "prepared once per operator, sign and size of value")
}
