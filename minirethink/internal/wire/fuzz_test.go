package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// transcriptQueries returns the queries of the recorded RethinkDB 2.4.4
// session (testdata/transcript-2.4.4.txt) as frames, in order.
func transcriptQueries(t testing.TB) [][]byte {
	t.Helper()
	data, err := os.ReadFile("testdata/transcript-2.4.4.txt")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^c\d+ → \[(\d+)\] (.*)$`)
	var frames [][]byte
	for _, m := range line.FindAllStringSubmatch(string(data), -1) {
		token, _ := strconv.ParseInt(m[1], 10, 64)
		frames = append(frames, frameBytes(token, m[2]))
	}
	if len(frames) < 30 {
		t.Fatalf("only %d queries found in the transcript", len(frames))
	}
	return frames
}

func addSeeds(f *testing.F) {
	frames := transcriptQueries(f)
	for _, fr := range frames {
		f.Add(fr)
	}
	f.Add(bytes.Join(frames, nil))
	for _, extra := range []string{`[1,"feed"]`, `[2]`, `[3,{"noreply":true}]`, `[1,"block",{"noreply":true}]`, `[4]`, `[1,"seq:2500"]`, `[1,[`, `[]`} {
		f.Add(frameBytes(1, extra))
	}
	for _, tc := range oddQueries {
		f.Add(frameBytes(1, tc.query))
	}
}

// FuzzDecode holds the frame reader and query decoder to their contract on
// arbitrary bytes: no panic, errors are CLIENT_ERRORs whose responses are
// valid JSON, and queries decode as they did with encoding/json.
func FuzzDecode(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			fr, err := readFrame(r, 1<<16)
			if err != nil {
				var tooLarge *errTooLarge
				if errors.As(err, &tooLarge) {
					checkResponse(t, errorResponse(errors.New(tooLarge.Error())).encode(tooLarge.token))
				}
				return
			}
			checkParseAsBefore(t, fr.payload)
			q, perr := parseQuery(fr.payload)
			if perr != nil {
				if perr.Response != ql2.Response_CLIENT_ERROR {
					t.Fatalf("decode error %v is not a CLIENT_ERROR", perr)
				}
				checkResponse(t, errorResponse(perr).encode(fr.token))
				continue
			}
			if q.typ < ql2.Query_START || q.typ > ql2.Query_SERVER_INFO {
				t.Fatalf("query type %d accepted", q.typ)
			}
			if q.noreply && q.opts["noreply"] != true {
				t.Fatalf("noreply from %#v", q.opts["noreply"])
			}
		}
	})
}

// FuzzConn feeds arbitrary bytes to an authenticated connection backed by
// the stub engine: the server must answer with well-formed frames, never
// panic, and always let go of the connection.
func FuzzConn(f *testing.F) {
	addSeeds(f)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = ln.Close() })
	srv := NewServer(Config{Engine: newStubEngine(), FrameTimeout: time.Second, MaxQuerySize: 1 << 16, WriteTimeout: time.Second})

	f.Fuzz(func(t *testing.T, data []byte) {
		clientEnd, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer clientEnd.Close()
		serverEnd, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		c := newConn(srv, serverEnd)
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer c.teardown()
			c.loop()
		}()

		read := make(chan error, 1)
		go func() {
			br := bufio.NewReader(clientEnd)
			for {
				var h [headerLen]byte
				if _, err := io.ReadFull(br, h[:]); err != nil {
					read <- nil // the server hung up: fine
					return
				}
				b := make([]byte, binary.LittleEndian.Uint32(h[8:]))
				if _, err := io.ReadFull(br, b); err != nil {
					read <- nil
					return
				}
				if err := checkPayload(b); err != nil {
					read <- err
					return
				}
			}
		}()
		_ = clientEnd.SetWriteDeadline(time.Now().Add(5 * time.Second))
		_, _ = clientEnd.Write(data)
		// The half-close ends a half-sent frame at once instead of after
		// FrameTimeout, and lets the answers still come back.
		_ = clientEnd.(*net.TCPConn).CloseWrite()
		select {
		case err := <-read:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the server neither answered nor hung up")
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("connection did not end after the client left")
		}
	})
}

func checkResponse(t *testing.T, frame []byte) {
	t.Helper()
	if len(frame) < headerLen || int(binary.LittleEndian.Uint32(frame[8:])) != len(frame)-headerLen {
		t.Fatalf("bad response frame %q", frame)
	}
	if err := checkPayload(frame[headerLen:]); err != nil {
		t.Fatal(err)
	}
}

func checkPayload(b []byte) error {
	var resp struct {
		T *int              `json:"t"`
		R []json.RawMessage `json:"r"`
	}
	if err := json.Unmarshal(b, &resp); err != nil || resp.T == nil || resp.R == nil {
		return errors.New("malformed response: " + string(b))
	}
	return nil
}
