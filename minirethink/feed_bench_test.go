package minirethink

import (
	"context"
	"runtime"
	"slices"
	"testing"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Writes and feeds through the real driver over loopback TCP: what a test
// using the embedded server pays per write and per change.
//
//	go test -run '^$' -bench . -benchtime 3s ./minirethink/

// benchPlayers starts a server with one player p (score 0) and returns a
// session allowed conns connections, and the table.
func benchPlayers(b *testing.B, conns int) (*r.Session, r.Term) {
	b.Helper()
	srv := RunT(b)
	s, err := r.Connect(r.ConnectOpts{Address: srv.Addr(), MaxOpen: conns, InitialCap: conns})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	if _, err := r.TableCreate("players").RunWrite(s); err != nil {
		b.Fatal(err)
	}
	players := r.Table("players")
	if _, err := players.Insert(map[string]any{"id": "p", "score": 0}).RunWrite(s); err != nil {
		b.Fatal(err)
	}
	return s, players
}

func increment(players r.Term) r.Term {
	return players.Get("p").Update(map[string]any{"score": r.Row.Field("score").Add(1)})
}

// BenchmarkDriverUpdate: one client, one document, one write at a time.
func BenchmarkDriverUpdate(b *testing.B) {
	s, players := benchPlayers(b, 1)
	q := increment(players)
	for b.Loop() {
		if _, err := q.RunWrite(s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkDriverUpdateParallel: GOMAXPROCS*4 clients on one hot document,
// over as many connections as GOMAXPROCS.
func BenchmarkDriverUpdateParallel(b *testing.B) {
	s, players := benchPlayers(b, runtime.GOMAXPROCS(0))
	q := increment(players)
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := q.RunWrite(s); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkDriverFeedLatency: a point feed and a writer on one session; each
// write waits for its change. ack-to-change-ns is the median time from the
// write's acknowledgement to the change coming out of cursor.Next (negative
// when the change overtakes the acknowledgement); write-to-change-ns from
// sending the write.
func BenchmarkDriverFeedLatency(b *testing.B) {
	s, players := benchPlayers(b, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cur, err := players.Get("p").Changes().Run(s, r.RunOpts{Context: ctx})
	if err != nil {
		b.Fatal(err)
	}
	defer cur.Close()
	arrived := make(chan time.Time, 1)
	go func() {
		var doc map[string]any
		for cur.Next(&doc) {
			arrived <- time.Now()
		}
	}()
	q := increment(players)
	var fromAck, fromWrite []time.Duration
	for b.Loop() {
		start := time.Now()
		if _, err := q.RunWrite(s); err != nil {
			b.Fatal(err)
		}
		ack := time.Now()
		at := <-arrived
		fromAck = append(fromAck, at.Sub(ack))
		fromWrite = append(fromWrite, at.Sub(start))
	}
	slices.Sort(fromAck)
	slices.Sort(fromWrite)
	b.ReportMetric(float64(fromAck[len(fromAck)/2].Nanoseconds()), "ack-to-change-ns")
	b.ReportMetric(float64(fromWrite[len(fromWrite)/2].Nanoseconds()), "write-to-change-ns")
}
