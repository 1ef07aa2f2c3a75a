// Command loadgen measures fan-out: it holds N subscribers (raw-socket SSE
// readers or WebSocket clients) on M boards, drives score-adds over HTTP at a
// set rate, and reports the latency from each write's send to each
// subscriber's receipt of an event that includes it (an HDR histogram:
// p50/p90/p99/max), how many of those receipts arrived of how many were
// expected, and the server's resident memory per subscriber (VmRSS of the
// given processes before and after the subscribers connect).
//
// Each board gets one writer and one player "w" whose score the writer adds 1
// to; the k-th write makes the score k. An event carrying score S delivers
// every write up to S, so coalesced updates count as delivered (their latency
// is measured to the event that carried them). It runs bounded in time, from
// loopback, with a goroutine and a small buffer per subscriber.
//
//	loadgen -target web -url http://127.0.0.1:5077 -subs 10000 -boards 1 -rate 10 -duration 20s -pid 1234
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

type options struct {
	target    string // web or mini
	url       string // writes (and setup)
	streamURL string // subscribers connect here (Pushpin's client port, say)
	transport string // sse or ws
	subs      int
	boards    int
	rate      float64
	duration  time.Duration
	drain     time.Duration
	connect   time.Duration
	pids      []int
	label     string
}

func main() {
	var o options
	var pids string
	flag.StringVar(&o.target, "target", "web", "web (boards created through the API) or mini (the minimal broadcaster: boards b0.., player w)")
	flag.StringVar(&o.url, "url", "http://127.0.0.1:5077", "base URL for setup and writes")
	flag.StringVar(&o.streamURL, "stream-url", "", "base URL subscribers connect to (default -url)")
	flag.StringVar(&o.transport, "transport", "sse", "sse or ws")
	flag.IntVar(&o.subs, "subs", 1000, "subscribers")
	flag.IntVar(&o.boards, "boards", 1, "boards (subscribers are spread evenly)")
	flag.Float64Var(&o.rate, "rate", 10, "score-adds per second, in all")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long writers run")
	flag.DurationVar(&o.drain, "drain", 3*time.Second, "how long to wait for deliveries after the last write")
	flag.DurationVar(&o.connect, "connect-timeout", 120*time.Second, "bound on connecting every subscriber")
	flag.StringVar(&pids, "pid", "", "comma-separated pids whose VmRSS is the server's memory")
	flag.StringVar(&o.label, "label", "", "label of the RESULT line")
	flag.Parse()
	if o.streamURL == "" {
		o.streamURL = o.url
	}
	for _, p := range strings.Split(pids, ",") {
		if p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil {
			fail("bad -pid %q", p)
		}
		o.pids = append(o.pids, n)
	}
	if o.label == "" {
		o.label = o.target
	}
	if err := run(o); err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(1)
}

// boardRun is one board's writer state; sent[k] is when the k-th write was sent
// (unix ns), 0 if it never was.
type boardRun struct {
	id, player string
	sent       []atomic.Int64
	writes     atomic.Int64 // acknowledged
	subs       atomic.Int64 // subscribers that got their first event
}

// shards of the latency histogram, so subscribers rarely contend.
const shards = 32

type stats struct {
	mu       [shards]sync.Mutex
	hist     [shards]*hdrhistogram.Histogram
	received atomic.Int64
	dropped  atomic.Int64 // subscribers whose stream ended during the run
	failed   atomic.Int64 // subscribers that never connected
	writeErr atomic.Int64
}

func (s *stats) record(i int, d time.Duration) {
	sh := i % shards
	s.mu[sh].Lock()
	_ = s.hist[sh].RecordValue(d.Microseconds())
	s.mu[sh].Unlock()
	s.received.Add(1)
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}

func run(o options) error {
	boards, token, err := setup(o)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	st := &stats{}
	for i := range st.hist {
		st.hist[i] = hdrhistogram.New(1, 120_000_000, 3) // 1µs to 120s
	}
	rssBefore := rss(o.pids)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var running atomic.Bool
	running.Store(true)
	var wg sync.WaitGroup
	ready := make(chan bool, o.subs)
	dial := make(chan struct{}, 64) // dials in flight
	began := time.Now()
	for i := range o.subs {
		b := boards[i%len(boards)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			subscribe(ctx, o, st, b, token, i, dial, ready, &running)
		}()
	}
	connected := 0
	timeout := time.After(o.connect)
wait:
	for range o.subs {
		select {
		case ok := <-ready:
			if ok {
				connected++
			}
		case <-timeout:
			break wait
		}
	}
	connectTime := time.Since(began)
	time.Sleep(2 * time.Second) // let the server settle before reading its memory
	rssAfter := rss(o.pids)
	fmt.Printf("connected %d of %d subscribers in %v; server RSS %d -> %d KiB\n", connected, o.subs, connectTime.Round(time.Millisecond), rssBefore, rssAfter)

	// Writers: one per board, each at rate/boards.
	perBoard := o.rate / float64(len(boards))
	var wwg sync.WaitGroup
	wctx, wcancel := context.WithTimeout(ctx, o.duration)
	for _, b := range boards {
		wwg.Add(1)
		go func() { defer wwg.Done(); write(wctx, o, st, b, perBoard) }()
	}
	wwg.Wait()
	wcancel()
	time.Sleep(o.drain)
	running.Store(false)
	cancel()
	wg.Wait()

	var expected, writes int64
	for _, b := range boards {
		w := b.writes.Load()
		writes += w
		expected += w * b.subs.Load()
	}
	h := hdrhistogram.New(1, 120_000_000, 3)
	for _, sh := range st.hist {
		h.Merge(sh)
	}
	ms := func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1000 }
	perSub := 0.0
	if connected > 0 && rssBefore > 0 {
		perSub = float64(rssAfter-rssBefore) / float64(connected)
	}
	fmt.Printf("writes %d (%.1f/s, %d errors); delivered %d of %d; subscribers dropped %d, failed %d\n",
		writes, float64(writes)/o.duration.Seconds(), st.writeErr.Load(), st.received.Load(), expected, st.dropped.Load(), st.failed.Load())
	fmt.Printf("latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; RSS per subscriber %.1f KiB\n",
		ms(50), ms(90), ms(99), float64(h.Max())/1000, perSub)
	fmt.Printf("RESULT label=%s transport=%s subs=%d connected=%d boards=%d rate=%g writes=%d expected=%d delivered=%d dropped=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f rss_before_kib=%d rss_after_kib=%d rss_per_sub_kib=%.1f\n",
		o.label, o.transport, o.subs, connected, len(boards), o.rate, writes, expected, st.received.Load(), st.dropped.Load(),
		ms(50), ms(90), ms(99), float64(h.Max())/1000, rssBefore, rssAfter, perSub)
	return nil
}

// setup creates the boards (one player "w" each) and, for WebSockets, a token.
func setup(o options) ([]*boardRun, string, error) {
	slots := int(o.rate*o.duration.Seconds()/float64(o.boards)*2) + 64
	boards := make([]*boardRun, o.boards)
	for i := range boards {
		b := &boardRun{sent: make([]atomic.Int64, slots)}
		boards[i] = b
		if o.target == "mini" {
			b.id, b.player = "b"+strconv.Itoa(i), "w"
			continue
		}
		var created struct{ ID string }
		if err := post(o.url+"/boards/", fmt.Sprintf(`{"name":"load %d"}`, i), &created); err != nil {
			return nil, "", err
		}
		var player struct{ ID string }
		if err := post(o.url+"/boards/"+created.ID+"/players/", `{"name":"w"}`, &player); err != nil {
			return nil, "", err
		}
		b.id, b.player = created.ID, player.ID
	}
	if o.transport != "ws" {
		return boards, "", nil
	}
	var user struct{ Token string }
	if err := post(o.url+"/users/", `{"register_user":"loadgen"}`, &user); err != nil {
		return nil, "", err
	}
	return boards, user.Token, nil
}

func post(u, body string, out any) error {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if k := os.Getenv("API_KEY"); k != "" {
		req.Header.Set("Authorization", "Bearer "+k)
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", u, res.Status, b)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// write sends score-adds to b's player at perSecond until ctx ends, one at a
// time (the k-th makes the score k, so each must be acknowledged first).
func write(ctx context.Context, o options, st *stats, b *boardRun, perSecond float64) {
	interval := time.Duration(float64(time.Second) / perSecond)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	u := o.url + "/boards/" + b.id + "/players/" + b.player + "/score-add/"
	for k := int64(1); ; {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if k >= int64(len(b.sent)) {
			return
		}
		b.sent[k].Store(time.Now().UnixNano())
		var p struct{ Score int64 }
		if err := post(u, "", &p); err != nil {
			st.writeErr.Add(1)
			continue
		}
		if p.Score != k {
			fmt.Fprintf(os.Stderr, "loadgen: board %s: write %d made score %d; is someone else writing?\n", b.id, k, p.Score)
			st.writeErr.Add(1)
			return
		}
		b.writes.Add(1)
		k++
	}
}

var scoreMark = []byte(`"name":"w","score":`)

// scoreIn finds player w's score in an event's data.
func scoreIn(data []byte) (int64, bool) {
	i := bytes.Index(data, scoreMark)
	if i < 0 {
		return 0, false
	}
	data = data[i+len(scoreMark):]
	n := 0
	for n < len(data) && data[n] >= '0' && data[n] <= '9' {
		n++
	}
	v, err := strconv.ParseInt(string(data[:n]), 10, 64)
	return v, err == nil
}

// subscribe holds one subscriber until ctx ends.
func subscribe(ctx context.Context, o options, st *stats, b *boardRun, token string, i int, dial chan struct{}, ready chan<- bool, running *atomic.Bool) {
	dial <- struct{}{}
	conn, br, err := open(o, b, token)
	<-dial
	if err != nil {
		st.failed.Add(1)
		if st.failed.Load() <= 3 {
			fmt.Fprintf(os.Stderr, "loadgen: subscriber %d: %v\n", i, err)
		}
		ready <- false
		return
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	var last int64
	first := true
	onEvent := func(data []byte) {
		now := time.Now().UnixNano()
		score, ok := scoreIn(data)
		if !ok {
			return
		}
		if first {
			first = false
			b.subs.Add(1)
			ready <- true
		}
		for k := last + 1; k <= score && k < int64(len(b.sent)); k++ {
			if t := b.sent[k].Load(); t != 0 {
				st.record(i, time.Duration(now-t))
			}
		}
		last = max(last, score)
	}
	if o.transport == "ws" {
		err = readWS(conn, br, onEvent)
	} else {
		err = readSSE(br, onEvent)
	}
	if first {
		st.failed.Add(1)
		ready <- false
		return
	}
	if running.Load() && ctx.Err() == nil {
		st.dropped.Add(1)
		if st.dropped.Load() <= 3 {
			fmt.Fprintf(os.Stderr, "loadgen: subscriber %d ended: %v\n", i, err)
		}
	}
}

// open connects and sends the request; for WebSockets it also subscribes to
// the board's channel.
func open(o options, b *boardRun, token string) (net.Conn, *bufio.Reader, error) {
	u, err := url.Parse(o.streamURL)
	if err != nil {
		return nil, nil, err
	}
	conn, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		return nil, nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(conn, 1024)
	var req string
	if o.transport == "ws" {
		key := make([]byte, 16)
		_, _ = rand.Read(key)
		req = "GET /ws?token=" + url.QueryEscape(token) + " HTTP/1.1\r\nHost: " + u.Host +
			"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " +
			base64.StdEncoding.EncodeToString(key) + "\r\n\r\n"
	} else {
		req = "GET /boards/" + b.id + "/ HTTP/1.1\r\nHost: " + u.Host + "\r\nAccept: text/event-stream\r\n\r\n"
	}
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, nil, err
	}
	status, err := br.ReadSlice('\n')
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	want := " 200 "
	if o.transport == "ws" {
		want = " 101 "
	}
	if !bytes.Contains(status, []byte(want)) {
		conn.Close()
		return nil, nil, fmt.Errorf("status %q", bytes.TrimSpace(status))
	}
	chunked := false
	for { // headers
		line, err := br.ReadSlice('\n')
		if err != nil {
			conn.Close()
			return nil, nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
		if bytes.HasPrefix(bytes.ToLower(line), []byte("transfer-encoding:")) && bytes.Contains(bytes.ToLower(line), []byte("chunked")) {
			chunked = true
		}
	}
	_ = conn.SetDeadline(time.Time{})
	if o.transport == "ws" {
		msg := fmt.Sprintf(`{"type":"subscribe","channel":"board-%s"}`, b.id)
		if err := writeWS(conn, 1, []byte(msg)); err != nil {
			conn.Close()
			return nil, nil, err
		}
	} else if chunked {
		// Chunk-size lines are dropped by the SSE reader, which skips lines it
		// does not know; an event is never split across chunks by the servers
		// measured here (each flush is one chunk), and a split would only
		// cost a missed score, which the next event makes up.
		br = bufio.NewReaderSize(&dechunk{r: br}, 1024)
	}
	return conn, br, nil
}

// dechunk strips HTTP/1.1 chunked framing.
type dechunk struct {
	r    *bufio.Reader
	left int64
}

func (d *dechunk) Read(p []byte) (int, error) {
	for d.left == 0 {
		line, err := d.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue // the CRLF after a chunk's data
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(line), 16, 64)
		if err != nil {
			return 0, fmt.Errorf("chunk size %q: %w", line, err)
		}
		if n == 0 {
			return 0, io.EOF
		}
		d.left = n
	}
	if int64(len(p)) > d.left {
		p = p[:d.left]
	}
	n, err := d.r.Read(p)
	d.left -= int64(n)
	return n, err
}

// readSSE calls onEvent with every data line.
func readSSE(br *bufio.Reader, onEvent func([]byte)) error {
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, line...)
			continue
		}
		if err != nil {
			return err
		}
		if long != nil {
			line = append(long, line...)
			long = nil
		}
		if bytes.HasPrefix(line, []byte("data:")) {
			onEvent(line)
		}
	}
}

// readWS reads server frames (never masked), answers pings, and calls onEvent
// with every text message.
func readWS(conn net.Conn, br *bufio.Reader, onEvent func([]byte)) error {
	var hdr [8]byte
	var buf []byte
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return err
		}
		op := hdr[0] & 0x0f
		n := int64(hdr[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(br, hdr[:2]); err != nil {
				return err
			}
			n = int64(binary.BigEndian.Uint16(hdr[:2]))
		case 127:
			if _, err := io.ReadFull(br, hdr[:8]); err != nil {
				return err
			}
			n = int64(binary.BigEndian.Uint64(hdr[:8]))
		}
		if n > 1<<20 {
			return fmt.Errorf("frame of %d bytes", n)
		}
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(br, buf); err != nil {
			return err
		}
		switch op {
		case 1, 0: // text, continuation (the server sends whole messages)
			onEvent(buf)
		case 8:
			return fmt.Errorf("close frame %q", buf)
		case 9:
			if err := writeWS(conn, 10, buf); err != nil {
				return err
			}
		}
		if cap(buf) > 4096 {
			buf = nil // a rare big message does not stay with the subscriber
		}
	}
}

// writeWS sends one masked frame (clients must mask).
func writeWS(conn net.Conn, op byte, payload []byte) error {
	if len(payload) > 125 {
		return errors.New("loadgen: client frames are small")
	}
	frame := make([]byte, 0, 6+len(payload))
	frame = append(frame, 0x80|op, 0x80|byte(len(payload)))
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	frame = append(frame, mask[:]...)
	for i, c := range payload {
		frame = append(frame, c^mask[i%4])
	}
	_, err := conn.Write(frame)
	return err
}

// rss is the sum of VmRSS of pids, in KiB.
func rss(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				total += n
			}
		}
	}
	return total
}
