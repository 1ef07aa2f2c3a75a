// Command storage-choice is the measurement behind minirethink's durable
// mode: score-add-like updates of one small JSON document from 16
// goroutines, each durable (fsynced) before it returns, on four stores:
//
//	wal     an append-only log with group commit (what minirethink uses)
//	bolt    go.etcd.io/bbolt, read-modify-write in db.Batch
//	pebble  github.com/cockroachdb/pebble, Set with pebble.Sync
//	fsync   one write and one fsync per update, under a lock
//
//	cd benchmarks/storage-choice && for s in wal bolt pebble fsync; do go run . -store $s; done
//
// It is its own module so that the service does not depend on bbolt or
// pebble.
package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble"
	bolt "go.etcd.io/bbolt"
)

type doc struct {
	ID    string  `json:"id"`
	Board string  `json:"board"`
	Name  string  `json:"name"`
	Score float64 `json:"score"`
	At    float64 `json:"reached_at"`
}

var (
	workers = flag.Int("workers", 16, "")
	dur     = flag.Duration("d", 3*time.Second, "")
	which   = flag.String("store", "wal", "wal|bolt|pebble|fsync")
	where   = flag.String("dir", ".", "where to put the store (a directory on the disk to measure)")
)

func main() {
	flag.Parse()
	dir, err := os.MkdirTemp(*where, "storage-choice")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	var op func(i int) error
	var mu sync.Mutex
	d := doc{ID: "4f3c9b1e-0000-4000-8000-000000000001", Board: "b0e3c9b1-0000-4000-8000-000000000002", Name: "Stan"}
	next := func() []byte {
		mu.Lock()
		d.Score++
		b, _ := json.Marshal(d)
		mu.Unlock()
		return b
	}
	switch *which {
	case "fsync":
		f, _ := os.Create(filepath.Join(dir, "f"))
		op = func(int) error {
			mu.Lock()
			defer mu.Unlock()
			d.Score++
			b, _ := json.Marshal(d)
			if _, err := f.Write(b); err != nil {
				return err
			}
			return f.Sync()
		}
	case "bolt":
		db, err := bolt.Open(filepath.Join(dir, "b.db"), 0o600, nil)
		if err != nil {
			panic(err)
		}
		db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("players")); return err })
		op = func(int) error {
			return db.Batch(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("players"))
				var cur doc
				if v := b.Get([]byte(d.ID)); v != nil {
					json.Unmarshal(v, &cur)
				}
				cur.Score++
				v, _ := json.Marshal(cur)
				return b.Put([]byte(d.ID), v)
			})
		}
	case "pebble":
		db, err := pebble.Open(filepath.Join(dir, "p"), &pebble.Options{})
		if err != nil {
			panic(err)
		}
		op = func(int) error {
			return db.Set([]byte(d.ID), next(), pebble.Sync)
		}
	case "wal":
		w := newWAL(filepath.Join(dir, "wal"))
		op = func(int) error {
			mu.Lock()
			d.Score++
			b, _ := json.Marshal(d)
			lsn := w.append(b)
			mu.Unlock()
			return w.sync(lsn)
		}
	}
	var n atomic.Int64
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := op(i); err != nil {
					panic(err)
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("%s workers=%d: %.0f writes/s\n", *which, *workers, float64(n.Load())/dur.Seconds())
}

// wal: append under the caller's lock, group fsync outside it.
type wal struct {
	f       *os.File
	mu      sync.Mutex
	cond    *sync.Cond
	buf     []byte
	written int64 // lsn appended
	synced  int64
	syncing bool
}

func newWAL(p string) *wal {
	f, err := os.Create(p)
	if err != nil {
		panic(err)
	}
	w := &wal{f: f}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *wal) append(p []byte) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var h [8]byte
	binary.LittleEndian.PutUint32(h[:4], uint32(len(p)))
	binary.LittleEndian.PutUint32(h[4:], crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli)))
	w.buf = append(w.buf, h[:]...)
	w.buf = append(w.buf, p...)
	w.written++
	return w.written
}

func (w *wal) sync(lsn int64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.synced < lsn {
		if w.syncing {
			w.cond.Wait()
			continue
		}
		w.syncing = true
		buf, upto := w.buf, w.written
		w.buf = nil
		w.mu.Unlock()
		_, err := w.f.Write(buf)
		if err == nil {
			err = w.f.Sync()
		}
		w.mu.Lock()
		w.syncing = false
		if err != nil {
			return err
		}
		w.synced = upto
		w.cond.Broadcast()
	}
	return nil
}
