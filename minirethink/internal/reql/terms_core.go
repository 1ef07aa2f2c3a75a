package reql

import (
	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Core terms: literals, functions and variables, and naming a db or table.

func coreTerms(reg termTable) {
	reg.add(ql2.Term_MAKE_ARRAY, termDef{fn: makeArray, maxArgs: -1})
	reg.add(ql2.Term_MAKE_OBJ, termDef{fn: makeObj, maxArgs: 0})
	reg.add(ql2.Term_FUNC, termDef{fn: makeFunc, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_VAR, termDef{fn: variable, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_IMPLICIT_VAR, termDef{fn: implicitVar})
	reg.add(ql2.Term_DB, termDef{fn: db, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_TABLE, termDef{fn: table, minArgs: 1, maxArgs: 2,
		opts: []string{"read_mode", "identifier_format"}})
	reg.add(ql2.Term_GET, termDef{fn: get, minArgs: 2, maxArgs: 2})
}

func makeArray(ec *evalCtx, t *Term) (any, error) {
	out := make([]any, 0, len(t.Args))
	for _, a := range t.Args {
		// as_datum (datum_terms.cc): a table or stream inside an array is a
		// type error, not an array.
		v, err := ec.strictDatum(a)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func makeObj(ec *evalCtx, t *Term) (any, error) {
	// make_obj evaluates its values with its own LITERAL_OK flag
	// (datum_terms.cc), so r.literal may sit in an object inside merge.
	literalOK := ec.termLiteralOK
	out := make(map[string]any, len(t.Opts))
	for k, o := range t.Opts {
		ec.literalOK = literalOK
		v, err := ec.strictDatum(o)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return sanitizePseudoType(out)
}

// sanitizePseudoType validates the pseudo-types clients may send, as
// datum_t::maybe_sanitize_ptype: a TIME is checked and put in canonical
// form (sanitizeTimeObject).
func sanitizePseudoType(o map[string]any) (map[string]any, error) {
	pt, ok := o["$reql_type$"]
	if !ok {
		return o, nil
	}
	switch pt {
	case "TIME":
		return sanitizeTimeObject(o)
	case "BINARY":
		if _, ok := o["data"].(string); !ok {
			return nil, ErrQueryLogic("Invalid binary pseudotype: lacking `data` key.")
		}
	case "LITERAL":
		// Only r.literal builds one, where it is allowed; an object that
		// says it is one is refused (datum_t::maybe_sanitize_ptype).
		return nil, ErrQueryLogic("%s", strayLiteralMsg)
	default:
		return nil, ErrUnsupported("The pseudo-type " + Print(pt))
	}
	return o, nil
}

// makeFunc builds a closure: [69, [[2, [params...]], body]].
func makeFunc(ec *evalCtx, t *Term) (any, error) {
	pv, err := ec.datum(t.Args[0])
	if err != nil {
		return nil, err
	}
	list, ok := pv.([]any)
	if !ok {
		return nil, expected("ARRAY", pv)
	}
	params := make([]float64, 0, len(list))
	for _, p := range list {
		n, ok := p.(float64)
		if !ok {
			return nil, expected("NUMBER", p)
		}
		params = append(params, n)
	}
	return &funcVal{params: params, body: t.Args[1], env: copyVars(ec.vars)}, nil
}

func variable(ec *evalCtx, t *Term) (any, error) {
	n, err := ec.number(t.Args[0])
	if err != nil {
		return nil, err
	}
	v, ok := ec.vars[n]
	if !ok {
		return nil, ErrCompile("Unrecognized variable %s.", printNumber(n))
	}
	return v, nil
}

func implicitVar(ec *evalCtx, t *Term) (any, error) {
	if len(ec.implicit) == 0 {
		return nil, ErrCompile("r.row is not defined in this context.")
	}
	return ec.implicit[len(ec.implicit)-1], nil
}

func db(ec *evalCtx, t *Term) (any, error) {
	name, err := ec.dbNameArg(t.Args[0])
	if err != nil {
		return nil, err
	}
	return &dbVal{name: name}, nil
}

// dbNameArg is a database name argument, which must be a valid name.
func (ec *evalCtx) dbNameArg(t *Term) (string, error) {
	name, err := ec.str(t)
	if err != nil {
		return "", err
	}
	return name, validName("Database", name)
}

func table(ec *evalCtx, t *Term) (any, error) {
	dbName := ec.db
	nameArg := t.Args[0]
	if len(t.Args) == 2 {
		v, err := ec.eval(t.Args[0])
		if err != nil {
			return nil, err
		}
		d, ok := v.(*dbVal)
		if !ok {
			return nil, valueTypeError("DATABASE", v)
		}
		dbName, nameArg = d.name, t.Args[1]
	}
	name, err := ec.str(nameArg)
	if err != nil {
		return nil, err
	}
	if err := validName("Table", name); err != nil {
		return nil, err
	}
	if mode, err := ec.optString(t, "read_mode", "single"); err != nil {
		return nil, err
	} else if mode != "single" && mode != "majority" && mode != "outdated" {
		return nil, ErrQueryLogic("Read mode `%s` unrecognized (options are \"majority\", \"single\", and \"outdated\").", mode)
	}
	if _, ok := t.Opts["identifier_format"]; ok {
		return nil, ErrUnsupported("The optional argument `identifier_format` of table")
	}
	tb, err := ec.m.lookupTable(dbName, name)
	if err != nil {
		return nil, err
	}
	return &tableVal{t: tb}, nil
}

func get(ec *evalCtx, t *Term) (any, error) {
	tb, err := ec.tableArg(t.Args[0])
	if err != nil {
		return nil, err
	}
	pk, err := ec.datum(t.Args[1])
	if err != nil {
		return nil, err
	}
	if err := validPrimaryKey(pk); err != nil {
		return nil, ErrQueryLogic("%s", err.Error())
	}
	return &singleVal{t: tb, pk: pk, doc: tb.Get(pk)}, nil
}
