package reql

import (
	"errors"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Writes: insert, update, replace and delete, with RethinkDB 2.4's write
// results. As in RethinkDB, update and delete are replace in disguise: every
// document goes through replaceDoc, which computes the new value from the old
// one, validates it, counts it and commits it. A failure computing or
// validating one document is counted in `errors` and leaves that document
// alone; a failure of the query itself (the selection, an option) is the
// query's error.

func writeTerms(reg termTable) {
	writeOpts := []string{"durability", "return_changes", "ignore_write_hook"}
	reg.add(ql2.Term_INSERT, termDef{fn: insertTerm, minArgs: 2, maxArgs: 2,
		opts: append([]string{"conflict"}, writeOpts...), writes: true})
	reg.add(ql2.Term_UPDATE, termDef{fn: updateTerm, minArgs: 2, maxArgs: 2,
		opts: append([]string{"non_atomic"}, writeOpts...), writes: true})
	reg.add(ql2.Term_REPLACE, termDef{fn: replaceTerm, minArgs: 2, maxArgs: 2,
		opts: append([]string{"non_atomic"}, writeOpts...), writes: true})
	reg.add(ql2.Term_DELETE, termDef{fn: deleteTerm, minArgs: 1, maxArgs: 1,
		opts: writeOpts, writes: true})
}

// writeNonDeterministicMsg is RethinkDB's refusal of a write function it
// cannot prove deterministic (it would differ between replicas).
const writeNonDeterministicMsg = "Could not prove argument deterministic.  Maybe you want to use the non_atomic flag?"

// changesLimit is where RethinkDB truncates a write result's changes array
// (the default array_limit), with a warning.
const changesLimit = arrayLimit

type returnChanges int

const (
	returnNoChanges returnChanges = iota
	returnChangesYes
	returnChangesAlways
)

// writeStats accumulates one write query's result document.
type writeStats struct {
	ret                                                   returnChanges
	inserted, deleted, replaced, unchanged, skipped, errs int
	firstError                                            string
	generatedKeys                                         []any
	changes                                               []any
	truncated                                             bool
}

func (s *writeStats) addChange(c map[string]any) {
	if len(s.changes) >= changesLimit {
		s.truncated = true
		return
	}
	s.changes = append(s.changes, c)
}

// fail counts a document that could not be written. old is the document as
// it stays (nil when the failure came before the table was read), which
// return_changes "always" reports as both old_val and new_val.
func (s *writeStats) fail(old map[string]any, msg string) {
	if s.errs == 0 {
		s.firstError = msg
	}
	s.errs++
	if s.ret == returnChangesAlways {
		s.addChange(map[string]any{"old_val": nullable(old), "new_val": nullable(old), "error": msg})
	}
}

// nullable turns a missing document into a JSON null rather than a typed nil
// map, which would marshal as null too but compare differently in tests.
func nullable(doc map[string]any) any {
	if doc == nil {
		return nil
	}
	return doc
}

func (s *writeStats) result() map[string]any {
	r := map[string]any{
		"inserted":  float64(s.inserted),
		"deleted":   float64(s.deleted),
		"replaced":  float64(s.replaced),
		"unchanged": float64(s.unchanged),
		"skipped":   float64(s.skipped),
		"errors":    float64(s.errs),
	}
	if s.errs > 0 {
		r["first_error"] = s.firstError
	}
	if len(s.generatedKeys) > 0 {
		r["generated_keys"] = s.generatedKeys
	}
	if s.ret != returnNoChanges {
		changes := s.changes
		if changes == nil {
			// RethinkDB always answers an (empty) array when asked.
			changes = []any{}
		}
		r["changes"] = changes
	}
	if s.truncated {
		r["warnings"] = []any{"Too many changes, array truncated to 100000."}
	}
	return r
}

// writeOptions parses the options every write term shares.
func (ec *evalCtx) writeOptions(t *Term) (returnChanges, error) {
	durability := ""
	if o, ok := t.Opts["durability"]; ok {
		d, err := ec.str(o)
		if err != nil {
			return 0, err
		}
		if d != "hard" && d != "soft" {
			return 0, ErrQueryLogic("Durability option `%s` unrecognized (options are \"hard\" and \"soft\").", d)
		}
		durability = d
	}
	// The write's commits follow; they wait for the disk unless soft.
	ec.m.setWriteDurability(durability)
	if o, ok := t.Opts["ignore_write_hook"]; ok {
		// The embedded server has no write hooks, so there is nothing to
		// ignore; the value must still be valid.
		if _, err := ec.truthy(o); err != nil {
			return 0, err
		}
	}
	o, ok := t.Opts["return_changes"]
	if !ok {
		return returnNoChanges, nil
	}
	v, err := ec.datum(o)
	if err != nil {
		return 0, err
	}
	if s, ok := v.(string); ok {
		if s == "always" {
			return returnChangesAlways, nil
		}
		return 0, ErrQueryLogic("Invalid return_changes value `%s` (options are `true`, `false`, and `'always'`.)", s)
	}
	if datumTruthy(v) {
		return returnChangesYes, nil
	}
	return returnNoChanges, nil
}

func datumTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	}
	return true
}

// writeFunction turns a write's argument into the function applied to each
// document. A non-function argument is re-evaluated for every document with
// r.row bound, as RethinkDB's rewrite of update puts it inside a function:
// update({u: r.uuid()}, {non_atomic: true}) gives each document its own UUID.
func (ec *evalCtx) writeFunction(t *Term) (*funcVal, error) {
	if t.Type == ql2.Term_FUNC {
		return ec.function(t)
	}
	return &funcVal{body: t, env: copyVars(ec.vars)}, nil
}

// nonDeterministicTerm reports whether t contains a term whose value may
// differ between two evaluations. RethinkDB decides this from the query, not
// from the evaluation, so a branch not taken still counts.
func nonDeterministicTerm(t *Term) bool { return anyTerm(t, nonDeterministic) }

func nonDeterministic(t *Term) bool {
	switch t.Type {
	case ql2.Term_TABLE, ql2.Term_JAVASCRIPT, ql2.Term_HTTP, ql2.Term_RANDOM:
		return true
	case ql2.Term_UUID:
		// r.uuid(name) is a name-based (version 5) UUID: deterministic.
		return len(t.Args) == 0
	}
	return false
}

// anyTerm reports whether pred holds for t or any term inside it.
func anyTerm(t *Term, pred func(*Term) bool) bool {
	if pred(t) {
		return true
	}
	for _, a := range t.Args {
		if anyTerm(a, pred) {
			return true
		}
	}
	for _, o := range t.Opts {
		if anyTerm(o, pred) {
			return true
		}
	}
	return false
}

// docFailure sorts an error met while computing one document's new value:
// a runtime error is that document's (counted in errors), anything else
// (an interrupted query, a malformed function) is the query's.
func (ec *evalCtx) docFailure(err error) (msg string, fatal error) {
	var rerr *Error
	if ec.ctx.Err() != nil || !errors.As(err, &rerr) || rerr.Response != ql2.Response_RUNTIME_ERROR {
		return "", err
	}
	if rerr.Msg == writeNonDeterministicMsg {
		return "", rerr
	}
	return rerr.Msg, nil
}

// replaceDoc writes one document: old is its current value (nil if absent),
// compute gives the new value (nil deletes). pk is the key the write is
// addressed to. The returned error is fatal to the query; per-document
// failures are counted in s.
func (ec *evalCtx) replaceDoc(t *Table, s *writeStats, pk any, old map[string]any,
	compute func(old map[string]any) (any, error)) error {
	v, err := compute(old)
	if err != nil {
		msg, fatal := ec.docFailure(err)
		if fatal != nil {
			return fatal
		}
		s.fail(old, msg)
		return nil
	}
	var newDoc map[string]any
	if v != nil {
		o, ok := v.(map[string]any)
		if !ok || rank(o) != rankObject {
			s.fail(old, "Inserted value must be an OBJECT (got "+TypeName(v)+"):\n"+Print(v))
			return nil
		}
		if msg := checkReplacement(t, pk, old, o); msg != "" {
			s.fail(old, msg)
			return nil
		}
		newDoc = o
	}
	changed := !(old == nil && newDoc == nil) && (old == nil || newDoc == nil || !Equal(old, newDoc))
	if changed && t.system != "" {
		msg, err := ec.m.writeSystemRow(t, old, newDoc)
		if err != nil {
			return err
		}
		if msg != "" {
			s.fail(old, msg)
			return nil
		}
	}
	switch {
	case old == nil && newDoc == nil:
		s.skipped++
	case old == nil:
		s.inserted++
	case newDoc == nil:
		s.deleted++
	case changed:
		s.replaced++
	default:
		s.unchanged++
	}
	if s.ret == returnChangesAlways || (s.ret == returnChangesYes && changed) {
		s.addChange(map[string]any{"old_val": nullable(old), "new_val": nullable(newDoc)})
	}
	if changed {
		// Index functions are evaluated for the commit; they are not part
		// of the user's write function.
		det := ec.deterministic
		ec.deterministic = false
		t.commit(ec, pk, old, newDoc)
		ec.deterministic = det
	}
	return nil
}

// checkReplacement validates a new document for the key pk, with
// RethinkDB's messages; "" when it is fine.
func checkReplacement(t *Table, pk any, old, doc map[string]any) string {
	newPK, ok := doc[t.primaryKey]
	if !ok {
		return "Inserted object must have primary key `" + t.primaryKey + "`:\n" + Print(doc)
	}
	if !Equal(newPK, pk) {
		if old == nil {
			return "Primary key `" + t.primaryKey + "` cannot be changed (null -> " + Print(doc) + ")"
		}
		return "Primary key `" + t.primaryKey + "` cannot be changed (`" + Print(old) + "` -> `" + Print(doc) + "`)."
	}
	if hasMinMax(doc) {
		return "`r.minval` and `r.maxval` cannot be written to disk."
	}
	return ""
}

// hasMinMax: r.minval and r.maxval exist only as bounds, never in documents.
func hasMinMax(v any) bool {
	switch x := v.(type) {
	case minVal, maxVal:
		return true
	case []any:
		for _, e := range x {
			if hasMinMax(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasMinMax(e) {
				return true
			}
		}
	}
	return false
}

// writeTargets resolves the selection a write applies to: the table and the
// documents, read in full before the first write so that writing never
// disturbs the walk of the tree it is reading.
func (ec *evalCtx) writeTargets(t *Term) (*Table, []writeTarget, error) {
	v, err := ec.eval(t)
	if err != nil {
		return nil, nil, err
	}
	switch x := v.(type) {
	case *singleVal:
		return x.t, []writeTarget{{pk: x.pk}}, nil
	case *tableVal:
		targets := make([]writeTarget, 0, x.t.Len())
		x.t.rows.Ascend(func(e docEntry) bool {
			targets = append(targets, writeTarget{pk: e.pk})
			return true
		})
		return x.t, targets, nil
	case *streamVal:
		if x.table == nil {
			return nil, nil, valueTypeError("SELECTION", v)
		}
		var targets []writeTarget
		for row, err := range x.seq {
			if err != nil {
				return nil, nil, err
			}
			doc, ok := row.(map[string]any)
			if !ok {
				return nil, nil, valueTypeError("SELECTION", v)
			}
			targets = append(targets, writeTarget{pk: doc[x.table.primaryKey]})
		}
		return x.table, targets, nil
	}
	return nil, nil, valueTypeError("SELECTION", v)
}

// writeTarget is one document a write is addressed to, by key: the write
// reads its current value when it gets to it, so a selection naming a
// document twice (get_all(1, 1)) sees its own first write.
type writeTarget struct{ pk any }

// mutationFunction evaluates the function argument of update and replace,
// enforcing determinism unless non_atomic.
func (ec *evalCtx) mutationFunction(t *Term) (*funcVal, bool, *writeStats, error) {
	nonAtomic := false
	if o, ok := t.Opts["non_atomic"]; ok {
		b, err := ec.truthy(o)
		if err != nil {
			return nil, false, nil, err
		}
		nonAtomic = b
	}
	if !nonAtomic && nonDeterministicTerm(t.Args[1]) {
		return nil, false, nil, ErrQueryLogic("%s", writeNonDeterministicMsg)
	}
	ret, err := ec.writeOptions(t)
	if err != nil {
		return nil, false, nil, err
	}
	fn, err := ec.writeFunction(t.Args[1])
	if err != nil {
		return nil, false, nil, err
	}
	return fn, nonAtomic, &writeStats{ret: ret}, nil
}

func replaceTerm(ec *evalCtx, t *Term) (any, error) {
	fn, nonAtomic, s, err := ec.mutationFunction(t)
	if err != nil {
		return nil, err
	}
	return ec.replaceAllWith(t, s, func(old map[string]any) (any, error) {
		det := ec.deterministic
		ec.deterministic = !nonAtomic
		defer func() { ec.deterministic = det }()
		return ec.callDatum(fn, nullable(old))
	})
}

// updateTerm is replace with old.merge(f(old)); a missing document stays
// missing (skipped) and f returning null leaves the document unchanged.
func updateTerm(ec *evalCtx, t *Term) (any, error) {
	fn, nonAtomic, s, err := ec.mutationFunction(t)
	if err != nil {
		return nil, err
	}
	return ec.replaceAllWith(t, s, func(old map[string]any) (any, error) {
		if old == nil {
			return nil, nil
		}
		det := ec.deterministic
		ec.deterministic = !nonAtomic
		r, err := ec.callLiteralOK(fn, old)
		ec.deterministic = det
		if err != nil {
			return nil, err
		}
		v, err := ec.toDatum(r)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return old, nil
		}
		// As rewrites.cc's old.merge(new): a non-object replaces the
		// document, and replaceDoc refuses it.
		return mergeChecked(old, v)
	})
}

// replaceAllWith runs compute over every target of the selection t.Args[0].
func (ec *evalCtx) replaceAllWith(t *Term, s *writeStats, compute func(old map[string]any) (any, error)) (any, error) {
	tb, targets, err := ec.writeTargets(t.Args[0])
	if err != nil {
		return nil, err
	}
	for _, tg := range targets {
		if err := ec.replaceDoc(tb, s, tg.pk, tb.Get(tg.pk), compute); err != nil {
			return nil, err
		}
	}
	return s.result(), nil
}

func deleteTerm(ec *evalCtx, t *Term) (any, error) {
	ret, err := ec.writeOptions(t)
	if err != nil {
		return nil, err
	}
	return ec.replaceAllWith(t, &writeStats{ret: ret}, func(map[string]any) (any, error) {
		return nil, nil
	})
}

// insert conflict behaviours.
type conflictMode int

const (
	conflictError conflictMode = iota
	conflictReplace
	conflictUpdate
	conflictFunc
)

func insertTerm(ec *evalCtx, t *Term) (any, error) {
	tb, err := ec.tableArg(t.Args[0])
	if err != nil {
		return nil, err
	}
	mode, conflictFn, err := ec.conflictOption(t)
	if err != nil {
		return nil, err
	}
	ret, err := ec.writeOptions(t)
	if err != nil {
		return nil, err
	}
	v, err := ec.eval(t.Args[1])
	if err != nil {
		return nil, err
	}
	if sv, ok := v.(*singleVal); ok {
		v = nullable(sv.doc)
	}
	var docs []any
	if o, ok := v.(map[string]any); ok && rank(o) == rankObject {
		docs = []any{o}
	} else {
		// Read the whole sequence first: inserting a table into itself
		// must not see its own inserts.
		for row, err := range ec.rows(v) {
			if err != nil {
				return nil, err
			}
			docs = append(docs, row)
		}
	}
	s := &writeStats{ret: ret}
	for _, d := range docs {
		doc, ok := d.(map[string]any)
		if !ok || rank(doc) != rankObject {
			s.fail(nil, expected("OBJECT", d).Msg)
			continue
		}
		if _, has := doc[tb.primaryKey]; !has {
			key := newUUID()
			doc = copyObject(doc, 1)
			doc[tb.primaryKey] = key
			s.generatedKeys = append(s.generatedKeys, key)
		}
		pk := doc[tb.primaryKey]
		if err := validPrimaryKey(pk); err != nil {
			s.fail(nil, err.Error())
			continue
		}
		if hasMinMax(doc) {
			s.fail(nil, "`r.minval` and `r.maxval` cannot be written to disk.")
			continue
		}
		err := ec.replaceDoc(tb, s, pk, tb.Get(pk), func(old map[string]any) (any, error) {
			if old == nil {
				return doc, nil
			}
			switch mode {
			case conflictReplace:
				return doc, nil
			case conflictUpdate:
				return mergeDatum(old, doc), nil
			case conflictFunc:
				det := ec.deterministic
				ec.deterministic = true
				defer func() { ec.deterministic = det }()
				return ec.callDatum(conflictFn, pk, old, doc)
			}
			return nil, ErrOpFailed("Duplicate primary key `%s`:\n%s\n%s", tb.primaryKey, Print(old), Print(doc))
		})
		if err != nil {
			return nil, err
		}
	}
	return s.result(), nil
}

// conflictOption parses insert's conflict: "error", "replace", "update" or a
// function (id, old, new) -> document.
func (ec *evalCtx) conflictOption(t *Term) (conflictMode, *funcVal, error) {
	o, ok := t.Opts["conflict"]
	if !ok {
		return conflictError, nil, nil
	}
	v, err := ec.eval(o)
	if err != nil {
		return 0, nil, err
	}
	if f, ok := v.(*funcVal); ok {
		// writes.cc allows arity 0 as well, which call then ignores.
		if n := len(f.params); n != 0 && n != 3 {
			return 0, nil, ErrQueryLogic("The conflict function passed to `insert` should expect 3 arguments.")
		}
		if nonDeterministicTerm(f.body) {
			return 0, nil, ErrQueryLogic("The conflict function passed to `insert` must be deterministic.")
		}
		return conflictFunc, f, nil
	}
	d, err := ec.toDatum(v)
	if err != nil {
		return 0, nil, err
	}
	s, ok := d.(string)
	if !ok {
		return 0, nil, expected("STRING", d)
	}
	switch s {
	case "error":
		return conflictError, nil, nil
	case "replace":
		return conflictReplace, nil, nil
	case "update":
		return conflictUpdate, nil, nil
	}
	return 0, nil, ErrQueryLogic("Conflict option `%s` unrecognized (options are \"error\", \"replace\" and \"update\").", s)
}

// mergeDatum is ReQL's merge of patch into base: nested objects merge
// recursively; r.literal(x) replaces instead, and r.literal() removes the
// field.
func mergeDatum(base, patch any) any {
	b, bok := base.(map[string]any)
	p, pok := patch.(map[string]any)
	if !pok || rank(p) != rankObject {
		return stripLiterals(patch)
	}
	if !bok || rank(b) != rankObject {
		return stripLiterals(patch)
	}
	out := copyObject(b, len(p))
	for k, v := range p {
		if lit, isLit := literalValue(v); isLit {
			if lit == nil {
				delete(out, k)
			} else {
				out[k] = stripLiterals(lit.v)
			}
			continue
		}
		if cur, ok := out[k]; ok {
			out[k] = mergeDatum(cur, v)
		} else {
			out[k] = stripLiterals(v)
		}
	}
	return out
}

// mergeChecked is datum_t::merge and the pseudo-type check every object it
// builds goes through: a literal merged at the top level leaves a LITERAL
// object, which is the stray literal error.
func mergeChecked(base, patch any) (any, error) {
	d := mergeDatum(base, patch)
	if _, lit := literalValue(d); lit {
		return nil, ErrQueryLogic("%s", strayLiteralMsg)
	}
	return d, nil
}

type literal struct{ v any }

// literalValue recognises r.literal's pseudo-type; a nil *literal means
// r.literal() (remove the field).
func literalValue(v any) (*literal, bool) {
	m, ok := v.(map[string]any)
	if !ok || m["$reql_type$"] != "LITERAL" {
		return nil, false
	}
	val, has := m["value"]
	if !has {
		return nil, true
	}
	return &literal{v: val}, true
}

// stripLiterals unwraps r.literal values in a value that is not merged into
// anything (a new field, or a patch replacing a non-object).
func stripLiterals(v any) any {
	if !containsLiteral(v) {
		return v
	}
	x := v.(map[string]any)
	if lit, isLit := literalValue(x); isLit {
		if lit == nil {
			return nil
		}
		return stripLiterals(lit.v)
	}
	out := make(map[string]any, len(x))
	for k, e := range x {
		if lit, isLit := literalValue(e); isLit && lit == nil {
			continue
		}
		out[k] = stripLiterals(e)
	}
	return out
}

func containsLiteral(v any) bool {
	x, ok := v.(map[string]any)
	if !ok {
		return false
	}
	if _, isLit := literalValue(x); isLit {
		return true
	}
	if rank(x) != rankObject {
		return false
	}
	for _, e := range x {
		if containsLiteral(e) {
			return true
		}
	}
	return false
}
