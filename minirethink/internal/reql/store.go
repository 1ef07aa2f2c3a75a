package reql

import (
	"fmt"
	"time"

	"github.com/google/btree"
)

// The store: databases hold tables; a table holds its documents in a B-tree
// ordered by primary key and one B-tree per secondary index ordered by
// (index value, primary key). Ranges, ordered reads and top-N reads are
// therefore O(log n + k), never a scan and sort.
//
// Every mutation goes through Table.commit, which keeps the indexes in step
// and tells the table's changefeed observers, in commit order, while the
// engine's write lock is held.

const btreeDegree = 32

type database struct {
	id     string
	name   string
	tables map[string]*Table
	// dupTables are the other tables of a name in tables, which only
	// unserialized creates make (see Memory.CreateRaceWindow): while a name
	// has any, it is ambiguous.
	dupTables map[string][]*Table
	// created is when db_create made it, on the wall clock.
	created time.Time
}

func newDatabase(name string) *database {
	return &database{id: newUUID(), name: name, tables: map[string]*Table{}, created: time.Now()}
}

// Table is one table's documents and indexes.
type Table struct {
	id         string
	db         *database
	name       string
	primaryKey string
	rows       *btree.BTreeG[docEntry]
	indexes    map[string]*index
	// observers are told of every committed change, in commit order.
	observers map[*observer]struct{}
	dropped   bool
	// durability ("soft"; "" is "hard") and shards (0 is 1) are what
	// table_create set. They change no answer, only the configuration
	// documents table_create and table_drop return.
	durability string
	shards     int
	// created is when table_create made it, on the wall clock.
	created time.Time
	// system names the system table (rethinkdb.table_config, ...) this
	// is a snapshot of; "" for a table of data.
	system string
	// strings shares repeated string values across documents (intern.go).
	strings interner
}

// docEntry is a document in the primary B-tree.
type docEntry struct {
	pk  any
	doc map[string]any
}

// index is a secondary index: its definition and its B-tree.
type index struct {
	name  string
	fn    *funcVal // the index function, one parameter: the document
	multi bool
	// def is the index function's term as the client sent it, kept for
	// index_status.
	def  []byte
	tree *btree.BTreeG[indexEntry]
}

// indexEntry is one (index value, document) pair; a multi index has one entry
// per element of the function's array result.
type indexEntry struct {
	key any
	pk  any
	doc map[string]any
}

// observer receives a table's committed changes. old or new is nil for an
// insert or a delete.
type observer struct {
	onChange func(old, new map[string]any)
	// onDrop is called when the table goes away; the feed ends with an error.
	onDrop func()
	// index is the secondary index the feed reads ("" for none), and
	// onIndexGone ends the feed when index_drop or index_rename takes that
	// index away (see endIndexFeeds).
	index       string
	onIndexGone func()
}

func newTable(db *database, id, name, primaryKey string) *Table {
	return &Table{
		id:         id,
		db:         db,
		name:       name,
		primaryKey: primaryKey,
		rows: btree.NewG(btreeDegree, func(a, b docEntry) bool {
			return Compare(a.pk, b.pk) < 0
		}),
		indexes:   map[string]*index{},
		observers: map[*observer]struct{}{},
		created:   time.Now(),
	}
}

func newIndexTree() *btree.BTreeG[indexEntry] {
	return btree.NewG(btreeDegree, func(a, b indexEntry) bool {
		if c := Compare(a.key, b.key); c != 0 {
			return c < 0
		}
		return Compare(a.pk, b.pk) < 0
	})
}

// FullName is "db.table", as RethinkDB names tables in messages.
func (t *Table) FullName() string { return t.db.name + "." + t.name }

// Get returns the document with primary key pk, or nil.
func (t *Table) Get(pk any) map[string]any {
	e, ok := t.rows.Get(docEntry{pk: pk})
	if !ok {
		return nil
	}
	return e.doc
}

// Len is the number of documents.
func (t *Table) Len() int { return t.rows.Len() }

// commit replaces the document with primary key pk (old, possibly nil) by new
// (possibly nil, a delete), updates every index and tells the observers. The
// caller holds the engine's write lock and has validated new.
func (t *Table) commit(ec *evalCtx, pk any, old, new map[string]any) {
	if new != nil {
		new = t.strings.doc(new)
	}
	if old != nil {
		t.rows.Delete(docEntry{pk: pk})
	}
	if new != nil {
		t.rows.ReplaceOrInsert(docEntry{pk: pk, doc: new})
	}
	for _, ix := range t.indexes {
		if old != nil {
			for _, k := range ix.keys(ec, old) {
				ix.tree.Delete(indexEntry{key: k, pk: pk})
			}
		}
		if new != nil {
			for _, k := range ix.keys(ec, new) {
				ix.tree.ReplaceOrInsert(indexEntry{key: k, pk: pk, doc: new})
			}
		}
	}
	ec.m.logChange(t, pk, new)
	for o := range t.observers {
		o.onChange(old, new)
	}
}

// keys evaluates the index function on doc. As in RethinkDB, a document for
// which the function fails (a missing field, say) is simply not in the index.
func (ix *index) keys(ec *evalCtx, doc map[string]any) []any {
	v, err := ec.callDatum(ix.fn, doc)
	if err != nil {
		return nil
	}
	if ix.multi {
		if arr, ok := v.([]any); ok {
			keys := make([]any, 0, len(arr))
			for _, k := range arr {
				if validIndexKey(k) {
					keys = append(keys, k)
				}
			}
			return keys
		}
	}
	if !validIndexKey(v) {
		return nil
	}
	return []any{v}
}

// validIndexKey: RethinkDB cannot index null, objects (other than times and
// binary), r.minval or r.maxval, or arrays containing any of them
// (datum_t::print_secondary and array_to_str_key in datum.cc).
func validIndexKey(v any) bool {
	switch x := v.(type) {
	case nil, minVal, maxVal:
		return false
	case map[string]any:
		r := rank(x)
		return r == rankTime || r == rankBinary
	case []any:
		for _, e := range x {
			if !validIndexKey(e) {
				return false
			}
		}
	}
	return true
}

// build fills a new index from the table's documents. The entries are
// sorted first (sortIndexEntries) and inserted in order: at a million
// documents that is four times faster than inserting them in document
// order, whose B-tree descents miss the cache at every level.
func (ix *index) build(ec *evalCtx, t *Table) {
	entries := make([]indexEntry, 0, t.rows.Len())
	t.rows.Ascend(func(e docEntry) bool {
		for _, k := range ix.keys(ec, e.doc) {
			entries = append(entries, indexEntry{key: k, pk: e.pk, doc: e.doc})
		}
		return true
	})
	sortIndexEntries(entries)
	for _, e := range entries {
		ix.tree.ReplaceOrInsert(e)
	}
}

// drop ends every feed on the table.
func (t *Table) drop() {
	t.dropped = true
	for o := range t.observers {
		o.onDrop()
	}
	t.observers = map[*observer]struct{}{}
}

// endIndexFeeds ends every feed reading secondary index name, which
// index_drop or index_rename is taking away, and unregisters it. RethinkDB
// 2.4 does not end such a feed (store_t::sindex_drop tells no changefeed,
// and its limit managers are keyed by index name): it would go on without
// ever sending a change. That silence is not reproduced; the feed ends at
// once with the unsupported-feature error instead.
func (t *Table) endIndexFeeds(name string) {
	for o := range t.observers {
		if o.index != "" && o.index == name {
			o.onIndexGone()
			delete(t.observers, o)
		}
	}
}

// observe registers o; the returned func unregisters it. Both need the
// engine's write lock (or, for a query registering a feed, the lock the query
// runs under: feeds are registered inside Run).
func (t *Table) observe(o *observer) {
	t.observers[o] = struct{}{}
}

func (t *Table) unobserve(o *observer) {
	delete(t.observers, o)
}

// validPrimaryKey: RethinkDB primary keys are strings, numbers, booleans,
// times, binary or arrays of those (not null, not objects); strings at most
// 127 bytes.
func validPrimaryKey(v any) error {
	switch x := v.(type) {
	case nil:
		return fmt.Errorf("Primary keys must be either a number, string, bool, pseudotype or array (got type NULL)")
	case string:
		if len(x) > 127 {
			return fmt.Errorf("Primary key too long (max 127 characters): %q", x)
		}
	case map[string]any:
		r := rank(x)
		if r != rankTime && r != rankBinary {
			return fmt.Errorf("Primary keys must be either a number, string, bool, pseudotype or array (got type OBJECT):\n%s", Print(x))
		}
	case []any:
		for _, e := range x {
			if err := validPrimaryKey(e); err != nil {
				return err
			}
		}
	}
	return nil
}
