package reql

import (
	"context"
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
			q := Query{Term: decoded(tc.term)}
			if tc.globalSoft {
				q.GlobalOpts = map[string]any{"durability": "soft"}
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

// A query whose record would pass the largest record a log holds is logged
// as several records, and read back whole.
func TestAGiantWriteIsLoggedInPieces(t *testing.T) {
	defer func(n int) { maxRecord = n }(maxRecord)
	maxRecord = 4096
	dir := t.TempDir()
	m, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	playersSchema(t, m, "")
	insertPlayers(t, m, 500, 5, 500) // one query, about 60 KB of record
	mustRunTerm(t, m, `[53,[[15,[[14,["test"]],"players"]],{"score":1}]]`)
	before := m.persist.store.LogSize()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m, err = Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tb := m.dbs["test"].tables["players"]
	if tb.Len() != 500 {
		t.Fatalf("%d players, want 500", tb.Len())
	}
	n := 0
	tb.indexes["rank"].tree.Ascend(func(e indexEntry) bool {
		if e.doc["score"] != 1.0 {
			t.Errorf("player %v has score %v", e.pk, e.doc["score"])
		}
		n++
		return true
	})
	if n != 500 {
		t.Errorf("%d rank entries, want 500", n)
	}
	if before < 100_000 {
		t.Errorf("the log is %d bytes: the test did not write big queries", before)
	}
}
