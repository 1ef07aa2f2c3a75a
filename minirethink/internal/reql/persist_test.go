package reql

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// Which writes wait for the disk: the write's durability option, else the
// query's, else the table's; "hard" unless one of them says "soft".
func TestDurabilityDecidesWhoWaits(t *testing.T) {
	m, err := Open(t.TempDir(), OpenOptions{FlushInterval: time.Hour}) // no background flush
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mustRunTerm(t, m, `[60,[[14,["test"]],"hard"]]`)
	mustRunTerm(t, m, `[60,[[14,["test"]],"soft"],{"durability":"soft"}]`)
	for _, tc := range []struct {
		name       string
		term       string
		globalSoft bool
		onDisk     bool
	}{
		{"a hard table", `[56,[[15,[[14,["test"]],"hard"]],{"id":1}]]`, false, true},
		{"a soft table", `[56,[[15,[[14,["test"]],"soft"]],{"id":1}]]`, false, false},
		{"a soft write to a hard table", `[56,[[15,[[14,["test"]],"hard"]],{"id":2}],{"durability":"soft"}]`, false, false},
		{"a hard write to a soft table", `[56,[[15,[[14,["test"]],"soft"]],{"id":2}],{"durability":"hard"}]`, false, true},
		{"a soft query", `[56,[[15,[[14,["test"]],"hard"]],{"id":3}]]`, true, false},
		{"a hard write in a soft query", `[53,[[16,[[15,[[14,["test"]],"hard"]],3]],{"x":1}],{"durability":"hard"}]`, true, true},
		{"a delete, soft", `[54,[[16,[[15,[[14,["test"]],"hard"]],3]]],{"durability":"soft"}]`, false, false},
		{"a schema change", `[60,[[14,["test"]],"more"]]`, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.persist.store.Flush(); err != nil {
				t.Fatal(err)
			}
			q := Query{Term: json.RawMessage(tc.term)}
			if tc.globalSoft {
				q.GlobalOpts = map[string]json.RawMessage{"durability": json.RawMessage(`"soft"`)}
			}
			if _, err := m.Run(context.Background(), q); err != nil {
				t.Fatal(err)
			}
			if pending := m.persist.store.Pending(); pending == tc.onDisk {
				t.Errorf("answered with the write pending=%v, want on disk=%v", pending, tc.onDisk)
			}
		})
	}
}
