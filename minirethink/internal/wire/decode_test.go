package wire

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/reql"
)

// TestQueryDecoding holds the answers to malformed and odd queries, with
// the real engine behind the wire: where in a query a number beyond
// float64's range or a bad optional argument sits decides which of them
// answers, and with what words.
func TestQueryDecoding(t *testing.T) {
	checkGoroutines(t)
	_, addr := start(t, Config{Engine: reql.New()})
	c := dial(t, addr)
	for i, tc := range oddQueries {
		t.Run(tc.name, func(t *testing.T) {
			token := int64(100 + i)
			want := tc.want
			if strings.Contains(want, "%d") {
				want = fmt.Sprintf(want, token)
			}
			assert.Equal(t, want, c.roundTrip(token, tc.query))
		})
	}
}

const (
	notFloat = `json: cannot unmarshal number 1e400 into Go value of type float64`
	noToken  = `{"t":16,"r":["Token %d not in stream cache."],"b":[]}`
)

func nested(n int) string { return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) }

// oddQueries are queries and the real engine's answers to them (see
// TestQueryDecoding).
var oddQueries = []struct {
	name, query, want string
}{
	{"a number as the query", `1e400`, `{"t":16,"r":["Server could not parse query: Expected a query to be an array, but found NUMBER."],"b":[]}`},
	{"an object as the query", `{"a":1e400}`, `{"t":16,"r":["Server could not parse query: Expected a query to be an array, but found OBJECT."],"b":[]}`},
	{"a string as the query", ` "a" `, `{"t":16,"r":["Server could not parse query: Expected a query to be an array, but found STRING."],"b":[]}`},
	{"a bool as the query", `true`, `{"t":16,"r":["Server could not parse query: Expected a query to be an array, but found BOOL."],"b":[]}`},
	{"too many elements, one out of range", `[1,1e400,{},4]`, `{"t":16,"r":["Server could not parse query: Expected 1 to 3 elements in the top-level query, but found 4."],"b":[]}`},
	{"type out of range", `[1e400,1]`, `{"t":16,"r":["Server could not parse query: Expected a query type as a number, but found NUMBER."],"b":[]}`},
	{"type an array", `[[1e400],1]`, `{"t":16,"r":["Server could not parse query: Expected a query type as a number, but found ARRAY."],"b":[]}`},
	{"type an object", `[{},1]`, `{"t":16,"r":["Server could not parse query: Expected a query type as a number, but found OBJECT."],"b":[]}`},
	{"type a bool", `[false,1]`, `{"t":16,"r":["Server could not parse query: Expected a query type as a number, but found BOOL."],"b":[]}`},
	{"type null", `[null,1]`, `{"t":16,"r":["Server could not parse query: Unrecognized QueryType: 0."],"b":[]}`},
	{"type a fraction", `[1.5,1]`, `{"t":16,"r":["Server could not parse query: Unrecognized QueryType: 1."],"b":[]}`},
	{"type -0", `[-0,1]`, `{"t":16,"r":["Server could not parse query: Unrecognized QueryType: 0."],"b":[]}`},
	{"type huge", `[1e300,1]`, `{"t":16,"r":["Server could not parse query: Unrecognized QueryType: -9223372036854775808."],"b":[]}`},
	{"type 1.0", `[1.0,"ok"]`, `{"t":1,"r":["ok"]}`},
	{"term out of range", `[1,[2,[1,1e400,1e500]]]`, `{"t":16,"r":["Failed to parse query: ` + notFloat + `."],"b":[]}`},
	{"term out of range in an object", `[1,{"a":[2,[1e400]]}]`, `{"t":16,"r":["Failed to parse query: ` + notFloat + `."],"b":[]}`},
	{"term out of range, opts not an object", `[1,1e400,[]]`, `{"t":16,"r":["Server could not parse query: Expected global optargs as an object, but found ARRAY."],"b":[]}`},
	{"term and db out of range", `[1,1e400,{"db":1e400}]`, `{"t":16,"r":["Failed to parse query: ` + notFloat + `."],"b":[]}`},
	{"term null", `[1,null]`, `{"t":1,"r":[null]}`},
	{"term bad UTF-8", "[1,\"a\xffb\\ud834\"]", "{\"t\":1,\"r\":[\"a\uFFFDb\uFFFD\"]}"},
	{"db out of range", `[1,1,{"db":[14,[1e400]]}]`, `{"t":16,"r":["Failed to parse global optional argument ` + "`db`" + `: ` + notFloat + `."],"b":[]}`},
	{"db not a database", `[1,1,{"db":"x"}]`, `{"t":18,"e":3000000,"r":["Expected type DATABASE for the global optional argument ` + "`db`" + `."],"b":[]}`},
	{"db twice", `[1,[15,["t"]],{"db":[14,["nope"]],"db":[14,["test"]]}]`, `{"t":18,"e":4100000,"r":["Table ` + "`test.t`" + ` does not exist."],"b":[]}`},
	{"queue size out of range", `[1,1,{"changefeed_queue_size":1e400}]`, `{"t":16,"r":["Failed to parse global optional argument ` + "`changefeed_queue_size`" + `: ` + notFloat + `."],"b":[]}`},
	{"queue size not a number", `[1,1,{"changefeed_queue_size":"1"}]`, `{"t":18,"e":3000000,"r":["Expected type NUMBER but found STRING."],"b":[]}`},
	{"queue size zero", `[1,1,{"changefeed_queue_size":0}]`, `{"t":18,"e":3000000,"r":["Illegal changefeed queue size ` + "`0`" + `.  (Must be >= 1.)"],"b":[]}`},
	{"read_mode out of range", `[1,1,{"read_mode":1e400}]`, `{"t":1,"r":[1]}`},
	{"durability out of range", `[1,1,{"durability":1e400}]`, `{"t":1,"r":[1]}`},
	{"durability not a string", `[1,1,{"durability":1}]`, `{"t":1,"r":[1]}`},
	{"profile out of range", `[1,1,{"profile":1e400}]`, `{"t":18,"e":3000000,"r":["The global optional argument ` + "`profile`" + ` is not supported by the embedded RethinkDB-compatible server (minirethink)."],"b":[]}`},
	{"profile false", `[1,1,{"profile":false}]`, `{"t":1,"r":[1]}`},
	{"profile null", `[1,1,{"profile":null}]`, `{"t":18,"e":3000000,"r":["The global optional argument ` + "`profile`" + ` is not supported by the embedded RethinkDB-compatible server (minirethink)."],"b":[]}`},
	{"noreply out of range", `[1,1,{"noreply":1e400}]`, `{"t":1,"r":[1]}`},
	{"noreply false", `[1,1,{"noreply":false}]`, `{"t":1,"r":[1]}`},
	{"unknown option out of range", `[1,1,{"nope":1e400}]`, `{"t":17,"r":["Unrecognized global optional argument ` + "`nope`" + `."],"b":[]}`},
	{"stop, options first", `[3,{"noreply":1e400},5]`, noToken},
	{"continue, options first", `[2,{"a":1e400}]`, noToken},
	{"continue, no options", `[2,[1e400]]`, noToken},
	{"continue, options not an object", `[2,1e400,1e400]`, `{"t":16,"r":["Server could not parse query: Expected global optargs as an object, but found NUMBER."],"b":[]}`},
	{"nested as deep as encoding/json allows", `[1,` + nested(9999) + `]`, `{"t":17,"r":["Query is too deeply nested (more than 512 levels)."],"b":[]}`},
	{"nested deeper", `[1,` + nested(10000) + `]`, `{"t":16,"r":["Client is buggy (failed to deserialize query)."],"b":[]}`},
	{"out of range, then malformed", `[1,1e400,{]`, `{"t":16,"r":["Client is buggy (failed to deserialize query)."],"b":[]}`},
	{"trailing data", `[1,1] [1,1]`, `{"t":16,"r":["Client is buggy (failed to deserialize query)."],"b":[]}`},
	{"whitespace around", " \t\r\n[ 1 , 2 ]\n", `{"t":1,"r":[2]}`},
	{"still usable after errors", `[1,"ok"]`, `{"t":1,"r":["ok"]}`},
}
