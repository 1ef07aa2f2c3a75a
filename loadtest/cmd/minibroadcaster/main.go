// Command minibroadcaster is the ceiling reference of loadtest/fanout.sh: the
// smallest net/http SSE broadcaster that speaks the leaderboard's stream
// format. GET /boards/{b}/ streams board b; POST
// /boards/{b}/players/{p}/score-add/ adds 1 to player p's score and sends b's
// subscribers the board, formatted once. No database, no coalescing, no
// keep-alive, no resume: what is left is net/http and a goroutine per
// subscriber, which is the pace the real service is measured against.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"sync"
)

type board struct {
	subs   map[chan []byte]bool
	scores map[string]int64
	seq    uint64
	last   []byte // the board now, the first event of a new subscriber
}

var (
	mu     sync.Mutex
	boards = map[string]*board{}
)

func get(id string) *board { // with mu held
	if boards[id] == nil {
		boards[id] = &board{subs: map[chan []byte]bool{}, scores: map[string]int64{}}
		boards[id].last = format(id, "w", 0, 0)
	}
	return boards[id]
}

func format(id, p string, score int64, seq uint64) []byte {
	data := fmt.Sprintf(`{"id":%q,"name":%q,"players":[{"id":%q,"name":%q,"score":%d,"rank":1}]}`, id, id, p, p, score)
	return fmt.Appendf(nil, "id: %d\nevent: update\ndata: %s\n\n", seq, data)
}

func stream(w http.ResponseWriter, r *http.Request) {
	ch := make(chan []byte, 16)
	mu.Lock()
	b := get(r.PathValue("b"))
	b.subs[ch] = true
	ch <- b.last
	mu.Unlock()
	defer func() { mu.Lock(); delete(b.subs, ch); mu.Unlock() }()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			if _, err := w.Write(msg); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}
}

func scoreAdd(w http.ResponseWriter, r *http.Request) {
	id, p := r.PathValue("b"), r.PathValue("p")
	mu.Lock()
	b := get(id)
	b.scores[p]++
	b.seq++
	score := b.scores[p]
	msg := format(id, p, score, b.seq)
	b.last = msg
	for ch := range b.subs {
		select {
		case ch <- msg:
		default: // too slow: drop it, as the hub does
			delete(b.subs, ch)
			close(ch)
		}
	}
	mu.Unlock()
	fmt.Fprintf(w, `{"id":%q,"name":%q,"score":%d,"rank":1,"board":%q}`, p, p, score, id)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:5099", "listen address (loopback)")
	flag.Parse()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boards/{b}/", stream)
	mux.HandleFunc("POST /boards/{b}/players/{p}/score-add/", scoreAdd)
	log.Fatal(http.ListenAndServe(*addr, mux))
}
