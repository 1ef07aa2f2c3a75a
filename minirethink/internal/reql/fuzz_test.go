package reql

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/jsonany"
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// FuzzRun feeds arbitrary query terms to an engine holding a table with a
// compound index and an open feed. Whatever the query, the engine must not
// panic, and must answer either a result that marshals to JSON or a ReQL
// error of a known response type with a message.
//
//	go test -run '^$' -fuzz FuzzRun -fuzztime 60s ./minirethink/internal/reql/
func FuzzRun(f *testing.F) {
	for _, seed := range []string{
		`[15,["players"]]`,
		`[16,[[15,["players"]],"a"]]`,
		`[53,[[16,[[15,["players"]],"a"]],[69,[[2,[1]],{"score":[24,[[31,[[10,[1]],"score"]],1]]}]]],{"return_changes":true}]`,
		`[71,[[41,[[182,[[15,["players"]],[2,["b",[180]]],[2,["b",[181]]]],{"index":"rank"}]],{"index":[74,["rank"]]}],2]]`,
		`[56,[[15,["players"]],[2,[{"board":"b","score":3},{"id":"a"}]]],{"conflict":"update"}]`,
		`[39,[[15,["players"]],{"board":"b"}]]`,
		`[43,[[15,["players"]]]]`,
		`[65,[[18,[1,"a"]],[24,[1,2]],[2,[1,[2,[]]]]]]`,
		`[92,[[2,[3,1,2]]]]`,
		`[152,[[15,["players"]]],{"include_initial":true,"squash":0.01}]`,
		`[60,[[14,["test"]],"t2"],{"primary_key":"k"}]`,
		`[75,[[15,["players"]],"m",[69,[[2,[1]],[10,[1]]]]],{"multi":true}]`,
		// Times.
		`[128,[[136,[2013,7,29,23,30,0.1,"-07:00"]]]]`,
		`[100,[[99,["2013-07-30T20:56:05-07:00"]]]]`,
		`[99,["2013-211T01:21:36.681"],{"default_timezone":"+01"}]`,
		`[105,[[101,[5]],[101,[1]],[101,[9]]],{"left_bound":"open"}]`,
		`[106,[[104,[[101,[1436428422.339]],"-08:00"]]]]`,
		`[135,[[101,[-0.5]]]]`,
		`[126,[[104,[[103,[]],"+05:30"]]]]`,
		`[127,[{"$reql_type$":"TIME","epoch_time":1.2345,"timezone":"Z"}]]`,
		// Transformations after changes, get_all feeds, offsets.
		`[38,[[152,[[15,["players"]]],{"include_states":true}],[69,[[2,[1]],[31,[[10,[1]],"new_val"]]]]]]`,
		`[39,[[152,[[15,["players"]]],{"include_initial":true}],[69,[[2,[1]],[21,[[31,[[31,[[10,[1]],"new_val"]],"score"]],5]]]]]]`,
		`[35,[[33,[[152,[[15,["players"]]],{"include_initial":true}],"new_val"]],{"seen":true}]]`,
		`[152,[[78,[[15,["players"]],"b","o"],{"index":"board"}]],{"include_initial":true}]`,
		`[152,[[71,[[41,[[15,["players"]]],{"index":[74,["rank"]]}],2]]],{"include_offsets":true,"include_initial":true}]`,
		`[152,[[38,[[71,[[41,[[15,["players"]]],{"index":[74,["rank"]]}],2]],[69,[[2,[1]],[10,[1]]]]]]]]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, query []byte) {
		if len(query) > 4096 {
			return
		}
		term, err := jsonany.Decode(query)
		var syntax *jsonany.SyntaxError
		if errors.As(err, &syntax) {
			return // the wire answers it; the engine never sees it
		}
		if err != nil {
			term = BadJSON{Err: err}
		}
		m := fuzzEngine(t)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, err := m.Run(ctx, Query{Term: term})
		if err != nil {
			var rerr *Error
			if !errors.As(err, &rerr) {
				t.Fatalf("%s: not a ReQL error: %T %v", query, err, err)
			}
			switch rerr.Response {
			case ql2.Response_CLIENT_ERROR, ql2.Response_COMPILE_ERROR, ql2.Response_RUNTIME_ERROR:
			default:
				t.Fatalf("%s: response type %v", query, rerr.Response)
			}
			// r.error("") is the one error whose message may be empty.
			if rerr.Msg == "" && rerr.Type != ql2.Response_USER {
				t.Fatalf("%s: error without a message", query)
			}
			return
		}
		switch res.Kind {
		case Atom:
			mustMarshal(t, query, res.Atom)
		case Sequence:
			mustMarshal(t, query, res.Seq)
		case Stream:
			batch, err := res.Feed.Next(ctx, false)
			if err == nil {
				mustMarshal(t, query, batch)
			}
			res.Feed.Close()
		default:
			t.Fatalf("%s: result kind %v", query, res.Kind)
		}
	})
}

func fuzzEngine(t *testing.T) *Memory {
	t.Helper()
	m, _ := writeTestEngine(t,
		map[string]any{"id": "a", "board": "b", "score": 10.0, "tags": []any{"x", "y"}},
		map[string]any{"id": "c", "board": "b", "score": 5.0, "nested": map[string]any{"k": "v"}},
		map[string]any{"id": 3.0, "board": "o", "score": -1.0},
	)
	for _, q := range []string{
		`[75,[[15,["players"]],"rank",[69,[[2,[1]],[2,[[31,[[10,[1]],"board"]],[31,[[10,[1]],"score"]]]]]]]]`,
		`[75,[[15,["players"]],"board"]]`,
	} {
		if _, err := m.Run(context.Background(), Query{Term: decoded(q)}); err != nil {
			t.Fatalf("fuzz engine setup %s: %v", q, err)
		}
	}
	return m
}

func mustMarshal(t *testing.T, query []byte, v any) {
	t.Helper()
	if _, err := json.Marshal(v); err != nil {
		t.Fatalf("%s: result does not marshal: %v", query, err)
	}
}
