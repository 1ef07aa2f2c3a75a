package reql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/leaderboardhq/leaderboard/minirethink/internal/storage"
)

// Durable mode: an engine opened on a data directory (Open) writes every
// write query's changes to a write-ahead log before answering, and loads
// the directory at start.
//
// A write query runs under the engine's write lock, as always; its commits
// (Table.commit) collect its changes, and when it ends, still under the
// lock, they become one log record, so the log's order is the commit order
// and a query is on disk entirely or not at all. The lock is then released
// and the query waits, with every other write that ended meanwhile, for
// one fsync covering them all (group commit, storage.Store.Sync) before it
// is answered. A soft write (the write's `durability` option, else the
// query's, else its table's) is answered without waiting; the log is
// synced in the background within storage.Options.FlushInterval.
//
// A record is JSON: {"s": schema} when the query changed the schema
// (databases, tables, indexes: compared after every write query), and
// {"c": [[table id, primary key, document or null], ...]} for its
// documents. Indexes are not logged: their functions are, in the schema
// (the JSON term index_status shows as `function`), and they are rebuilt
// at start. When the log outgrows CheckpointBytes a snapshot is written
// from a copy-on-write clone of every table, in the background, and the
// log restarts.
//
// Changefeeds see a change when it is committed, before it is on disk, as
// other readers do; the writer's answer waits for the disk.

// DefaultCheckpointBytes is the log size at which a snapshot is taken.
const DefaultCheckpointBytes = 64 << 20

// OpenOptions tune a durable engine.
type OpenOptions struct {
	Logger *slog.Logger
	// CheckpointBytes: take a snapshot when the log grows past this
	// (default DefaultCheckpointBytes).
	CheckpointBytes int64
	// FlushInterval bounds how long a soft write stays only in memory
	// (default 100ms).
	FlushInterval time.Duration
}

type persistState struct {
	store *storage.Store
	log   *slog.Logger
	limit int64

	// Guarded by the engine's write lock.
	cur             *commitWait
	changes         []any
	writeDurability string
	schema          []byte     // the schema last logged, as JSON
	sig             []schemaID // and its cheap signature
	checkpointing   bool

	bg sync.WaitGroup
}

// commitWait is one write query's claim on the log.
type commitWait struct {
	queryDurability string // the query's global optional argument
	logged          bool   // the query appended a record, lsn
	lsn             uint64
	hard            bool // and must wait for it to be on disk
}

// Run evaluates one query; a write is answered once it is on disk (unless
// soft).
func (m *Memory) Run(ctx context.Context, q Query) (Result, error) {
	var w commitWait
	if d, ok := q.GlobalOpts["durability"].(string); ok && m.persist != nil {
		w.queryDurability = d
	}
	res, err := m.run(ctx, q, &w)
	if w.logged && w.hard {
		if serr := m.persist.store.Sync(w.lsn); serr != nil {
			return Result{}, ErrOpFailed("The write could not be saved to disk: %v.", serr)
		}
	}
	return res, err
}

// writable refuses writes once the log could not be written: a write
// that cannot be made durable is not applied at all, so what readers see
// never runs ahead of what a restart would find.
func (m *Memory) writable() error {
	if m.persist == nil {
		return nil
	}
	if err := m.persist.store.Err(); err != nil {
		return ErrOpFailed("The data directory cannot be written (%v); writes are refused until the server is restarted.", err)
	}
	return nil
}

func (m *Memory) beginWrite(w *commitWait) {
	if m.persist == nil {
		return
	}
	m.persist.cur = w
	m.persist.writeDurability = ""
}

// setWriteDurability is the durability option of the write term about to
// commit ("" when it has none).
func (m *Memory) setWriteDurability(d string) {
	if m.persist != nil {
		m.persist.writeDurability = d
	}
}

// logChange notes a committed change of a table of data for the log.
func (m *Memory) logChange(t *Table, pk any, doc map[string]any) {
	p := m.persist
	if p == nil || t.system != "" || p.cur == nil {
		return
	}
	p.changes = append(p.changes, []any{t.id, pk, nullable(doc)})
	d := p.writeDurability
	if d == "" {
		d = p.cur.queryDurability
	}
	if d == "" {
		d = t.durability
	}
	if d != "soft" {
		p.cur.hard = true
	}
}

// logRecord is one record of the log or a snapshot.
type logRecord struct {
	Schema  *schemaDoc `json:"s,omitempty"`
	Changes []any      `json:"c,omitempty"`
}

// endWrite appends the query's record, if it changed anything, and
// releases the write lock.
func (m *Memory) endWrite(w *commitWait) {
	defer m.mu.Unlock()
	p := m.persist
	if p == nil {
		return
	}
	p.cur = nil
	var rec logRecord
	if sig := m.schemaSignature(p.sig[:0:0]); !equalSignatures(sig, p.sig) {
		s := m.schemaDoc()
		b, err := json.Marshal(s)
		if err == nil && string(b) != string(p.schema) {
			rec.Schema = s
			p.schema = b
			w.hard = true // schema changes are always durable, as RethinkDB's
		}
		p.sig = sig
	}
	rec.Changes, p.changes = p.changes, nil
	if rec.Schema == nil && len(rec.Changes) == 0 {
		return
	}
	for _, b := range encodeRecord(rec) {
		w.lsn = p.store.Append(b)
	}
	w.logged = true
	if !p.checkpointing && p.store.LogSize() > p.limit {
		p.checkpointing = true
		p.bg.Go(m.checkpoint)
	}
}

// encodeRecord is rec as one log record, or, if that would pass
// storage.MaxRecord (an update of millions of documents), as several: the
// schema first, then the changes in halves, recursively. Only such a giant
// query can then be cut in the middle by a crash.
func encodeRecord(rec logRecord) [][]byte {
	b, err := json.Marshal(rec)
	if err != nil {
		// Datums always marshal; this would be a bug, and losing the write
		// silently would be worse than failing loudly.
		panic(fmt.Sprintf("minirethink: encode a log record: %v", err))
	}
	if len(b) <= maxRecord || len(rec.Changes) <= 1 {
		return [][]byte{b}
	}
	half := len(rec.Changes) / 2
	first := encodeRecord(logRecord{Schema: rec.Schema, Changes: rec.Changes[:half]})
	return append(first, encodeRecord(logRecord{Changes: rec.Changes[half:]})...)
}

// maxRecord is storage.MaxRecord, smaller in tests.
var maxRecord = storage.MaxRecord

// Schema, as logged.

type schemaDoc struct {
	DBs []dbDoc `json:"dbs"`
}

type dbDoc struct {
	ID     string     `json:"id"`
	Name   string     `json:"name"`
	Tables []tableDoc `json:"tables"`
}

type tableDoc struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	PrimaryKey string     `json:"primary_key"`
	Durability string     `json:"durability,omitempty"`
	Shards     int        `json:"shards,omitempty"`
	Indexes    []indexDoc `json:"indexes,omitempty"`
}

type indexDoc struct {
	Name string `json:"name"`
	// Function is the index function's JSON term, as index_status's
	// `function` blob holds it.
	Function json.RawMessage `json:"function"`
	Multi    bool            `json:"multi,omitempty"`
}

// schemaDoc is every database, table and index, in id and name order.
func (m *Memory) schemaDoc() *schemaDoc {
	s := &schemaDoc{DBs: []dbDoc{}}
	for _, d := range m.allDatabases() {
		dd := dbDoc{ID: d.id, Name: d.name, Tables: []tableDoc{}}
		for _, t := range d.allTables() {
			td := tableDoc{ID: t.id, Name: t.name, PrimaryKey: t.primaryKey, Durability: t.durability, Shards: t.shards}
			for _, n := range t.indexNames() {
				ix := t.indexes[n.(string)]
				td.Indexes = append(td.Indexes, indexDoc{Name: ix.name, Function: ix.def, Multi: ix.multi})
			}
			dd.Tables = append(dd.Tables, td)
		}
		s.DBs = append(s.DBs, dd)
	}
	return s
}

// schemaID is one database, table or index by identity and name: the
// schema changed if and only if the list of them did. Building it costs
// far less than building and encoding the schema after every write.
type schemaID struct {
	ptr  any
	name string
}

func (m *Memory) schemaSignature(sig []schemaID) []schemaID {
	for name, d := range m.dbs {
		for _, db := range append([]*database{d}, m.dupDBs[name]...) {
			sig = append(sig, schemaID{db, db.name})
			for tname, t := range db.tables {
				for _, tb := range append([]*Table{t}, db.dupTables[tname]...) {
					sig = append(sig, schemaID{tb, tb.name + "\x00" + tb.durability})
					for _, ix := range tb.indexes {
						sig = append(sig, schemaID{ix, ix.name})
					}
				}
			}
		}
	}
	return sig
}

// equalSignatures compares as sets: map order varies between calls.
func equalSignatures(a, b []schemaID) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[schemaID]struct{}, len(b))
	for _, x := range b {
		seen[x] = struct{}{}
	}
	for _, x := range a {
		if _, ok := seen[x]; !ok {
			return false
		}
	}
	return true
}

// Snapshots.

// snapshotChunk is how many documents one snapshot record holds.
const snapshotChunk = 1024

// frozen is a consistent copy of the engine: the schema, and every table's
// documents as a copy-on-write clone that later writes do not disturb.
type frozen struct {
	schema *schemaDoc
	tables []frozenTable
}

type frozenTable struct {
	id   string
	rows *btree.BTreeG[docEntry]
}

// freeze copies the engine's state; the caller holds the write lock (a
// B-tree may be cloned only while nobody else uses it).
func (m *Memory) freeze() frozen {
	f := frozen{schema: m.schemaDoc()}
	for _, d := range m.allDatabases() {
		for _, t := range d.allTables() {
			f.tables = append(f.tables, frozenTable{id: t.id, rows: t.rows.Clone()})
		}
	}
	return f
}

// write writes f as records: the schema, then the documents in chunks.
func (f frozen) write(add func(rec []byte) error) error {
	b, err := json.Marshal(logRecord{Schema: f.schema})
	if err != nil {
		return err
	}
	if err := add(b); err != nil {
		return err
	}
	chunk := make([]any, 0, snapshotChunk)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		b, err := json.Marshal(logRecord{Changes: chunk})
		if err != nil {
			return err
		}
		chunk = chunk[:0]
		return add(b)
	}
	for _, t := range f.tables {
		var err error
		t.rows.Ascend(func(e docEntry) bool {
			chunk = append(chunk, []any{t.id, e.pk, e.doc})
			if len(chunk) == snapshotChunk {
				err = flush()
			}
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	return flush()
}

// checkpoint snapshots the engine and restarts the log: under the write
// lock only long enough to rotate the log and clone the tables.
func (m *Memory) checkpoint() {
	p := m.persist
	start := time.Now()
	m.mu.Lock()
	gen, err := p.store.Rotate()
	var f frozen
	if err == nil {
		f = m.freeze()
	}
	m.mu.Unlock()
	if err == nil {
		err = p.store.WriteSnapshot(gen, func(w *storage.SnapshotWriter) error { return f.write(w.Add) })
	}
	m.mu.Lock()
	p.checkpointing = false
	m.mu.Unlock()
	if err != nil {
		p.log.Error("minirethink: snapshot failed; the log keeps growing", "err", err)
		return
	}
	p.log.Info("minirethink: snapshot written, log restarted", "generation", gen, "took", time.Since(start))
}

// Backup writes a consistent snapshot of every database to w, in the
// format of a data directory's snapshot.mrdb: a data directory holding
// only that file (under that name) starts with exactly this data. Writes
// wait only while the tables are cloned.
func (m *Memory) Backup(w io.Writer) error {
	m.mu.Lock()
	f := m.freeze()
	m.mu.Unlock()
	sw := storage.NewSnapshotWriter(w)
	if err := sw.Add([]byte("gen 1")); err != nil {
		return err
	}
	if err := f.write(sw.Add); err != nil {
		return err
	}
	return sw.Finish()
}

// Open returns an engine whose data lives in dir: it locks dir (one
// process at a time), loads what is there and logs every write from now
// on. Close releases it.
func Open(dir string, o OpenOptions) (*Memory, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.CheckpointBytes <= 0 {
		o.CheckpointBytes = DefaultCheckpointBytes
	}
	start := time.Now()
	st, err := storage.Open(dir, storage.Options{Logger: o.Logger, FlushInterval: o.FlushInterval})
	if err != nil {
		return nil, err
	}
	m := New()
	l := &loader{m: m, tables: map[string]*Table{}}
	stats, err := st.Replay(l.add)
	if err == nil {
		if err = l.flush(); err != nil {
			err = fmt.Errorf("storage: %s: %w", dir, err)
		}
	}
	replayed := time.Now()
	if err == nil {
		err = l.finish()
	}
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	p := &persistState{store: st, log: o.Logger, limit: o.CheckpointBytes}
	if l.schema != nil {
		p.schema, _ = json.Marshal(m.schemaDoc())
		p.sig = m.schemaSignature(nil)
	}
	m.persist = p
	docs := 0
	for _, t := range l.tables {
		docs += t.Len()
	}
	o.Logger.Info("minirethink: data directory loaded", "dir", dir, "tables", len(l.tables), "documents", docs,
		"snapshot_records", stats.SnapshotRecords, "log_records", stats.LogRecords, "log_files", stats.LogFiles,
		"dropped_bytes", stats.DroppedBytes, "took", time.Since(start), "indexes_took", time.Since(replayed))
	if st.LogSize() > p.limit || stats.LogFiles > 1 {
		m.mu.Lock()
		p.checkpointing = true
		m.mu.Unlock()
		p.bg.Go(m.checkpoint)
	}
	return m, nil
}

// Close waits for a snapshot in progress, syncs the log and releases the
// data directory. Queries must have ended. An engine in memory only has
// nothing to close.
func (m *Memory) Close() error {
	p := m.persist
	if p == nil {
		return nil
	}
	p.bg.Wait()
	return p.store.Close()
}

// loader applies records to an engine being opened. Documents go straight
// into the primary B-trees; indexes are built once, at the end. Records are
// decoded in batches, on every core, and applied in order.
type loader struct {
	m      *Memory
	tables map[string]*Table // by id
	schema *schemaDoc
	batch  [][]byte
}

// loaderBatch is how many records are decoded side by side.
const loaderBatch = 64

type decodedRecord struct {
	Schema  *schemaDoc `json:"s"`
	Changes [][]any    `json:"c"`
}

// add queues a record (Replay reuses b's memory).
func (l *loader) add(b []byte) error {
	l.batch = append(l.batch, bytes.Clone(b))
	if len(l.batch) < loaderBatch {
		return nil
	}
	return l.flush()
}

// flush decodes the queued records in parallel and applies them in order.
func (l *loader) flush() error {
	recs := make([]decodedRecord, len(l.batch))
	errs := make([]error, len(l.batch))
	workers := min(runtime.GOMAXPROCS(0), len(l.batch))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(l.batch); i += workers {
				errs[i] = json.Unmarshal(l.batch[i], &recs[i])
			}
		})
	}
	wg.Wait()
	l.batch = l.batch[:0]
	for i := range recs {
		if errs[i] != nil {
			return fmt.Errorf("decode: %w", errs[i])
		}
		if err := l.apply(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) apply(rec *decodedRecord) error {
	if rec.Schema != nil {
		l.applySchema(rec.Schema)
	}
	for _, c := range rec.Changes {
		if len(c) != 3 {
			return errors.New("a change that is not [table, key, document]")
		}
		id, _ := c[0].(string)
		t := l.tables[id]
		if t == nil {
			continue // a table dropped later in the same query
		}
		if c[2] == nil {
			t.rows.Delete(docEntry{pk: c[1]})
			continue
		}
		doc, ok := c[2].(map[string]any)
		if !ok {
			return errors.New("a document that is not an object")
		}
		t.rows.ReplaceOrInsert(docEntry{pk: c[1], doc: doc})
	}
	return nil
}

// applySchema makes the engine's databases, tables and index definitions
// those of s, keeping the documents of tables that stay.
func (l *loader) applySchema(s *schemaDoc) {
	l.schema = s
	m := l.m
	oldDBs := map[string]*database{}
	for _, d := range m.allDatabases() {
		oldDBs[d.id] = d
	}
	m.dbs = map[string]*database{}
	m.dupDBs = map[string][]*database{}
	tables := map[string]*Table{}
	for _, dd := range s.DBs {
		d := oldDBs[dd.ID]
		if d == nil {
			d = &database{id: dd.ID}
		}
		d.name = dd.Name
		d.tables, d.dupTables = map[string]*Table{}, nil
		for _, td := range dd.Tables {
			t := l.tables[td.ID]
			if t == nil {
				t = newTable(d, td.ID, td.Name, td.PrimaryKey)
				t.created = time.Time{}
			}
			t.db, t.name, t.primaryKey = d, td.Name, td.PrimaryKey
			t.durability, t.shards = td.Durability, td.Shards
			t.indexes = map[string]*index{}
			for _, ixd := range td.Indexes {
				t.indexes[ixd.Name] = &index{name: ixd.Name, multi: ixd.Multi, def: ixd.Function}
			}
			d.addTable(t)
			tables[td.ID] = t
		}
		m.addDatabase(d)
	}
	l.tables = tables
}

// finish compiles the index functions and builds the indexes.
func (l *loader) finish() error {
	ec := &evalCtx{ctx: context.Background(), m: l.m, now: float64(time.Now().UnixMilli()) / 1000}
	var wg sync.WaitGroup
	for _, t := range l.tables {
		for _, ix := range t.indexes {
			var raw any
			if err := json.Unmarshal(ix.def, &raw); err != nil {
				return fmt.Errorf("index %s of %s: %w", ix.name, t.FullName(), err)
			}
			term, err := parseTerm(raw, 0)
			if err != nil {
				return fmt.Errorf("index %s of %s: %w", ix.name, t.FullName(), err)
			}
			if ix.fn, err = ec.function(term); err != nil {
				return fmt.Errorf("index %s of %s: %w", ix.name, t.FullName(), err)
			}
			ix.tree = newIndexTree()
			// Indexes are independent: build them side by side, each with
			// its own evaluation context.
			wg.Go(func() {
				iec := &evalCtx{ctx: context.Background(), m: l.m, now: ec.now}
				ix.build(iec, t)
			})
		}
	}
	wg.Wait()
	return nil
}
