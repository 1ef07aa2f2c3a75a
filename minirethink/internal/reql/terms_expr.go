package reql

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Expression terms: comparison, logic and control flow, errors and default,
// r.do, types and coercion, UUIDs and literals, as RethinkDB 2.4's
// src/rdb_protocol/terms/{pred,control,error,type_manip,uuid}.cc.
//
// Unlike evalCtx.datum, these terms convert their arguments as RethinkDB's
// val_t::as_datum does: a table or a stream is not a datum ("Expected type
// DATUM but found TABLE:"), only an array is.

func exprTerms(reg termTable) {
	for _, tt := range []ql2.Term_TermType{ql2.Term_EQ, ql2.Term_NE, ql2.Term_LT,
		ql2.Term_LE, ql2.Term_GT, ql2.Term_GE} {
		reg.add(tt, termDef{fn: compareTerm, minArgs: 2, maxArgs: -1})
	}
	reg.add(ql2.Term_NOT, termDef{fn: notTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_AND, termDef{fn: andTerm, maxArgs: -1})
	reg.add(ql2.Term_OR, termDef{fn: orTerm, maxArgs: -1})
	reg.add(ql2.Term_BRANCH, termDef{fn: branchTerm, minArgs: 3, maxArgs: -1})
	reg.add(ql2.Term_ERROR, termDef{fn: errorTerm, maxArgs: 1})
	reg.add(ql2.Term_DEFAULT, termDef{fn: defaultTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_FUNCALL, termDef{fn: funcallTerm, minArgs: 1, maxArgs: -1})
	reg.add(ql2.Term_TYPE_OF, termDef{fn: typeOfTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_COERCE_TO, termDef{fn: coerceToTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_UUID, termDef{fn: uuidTerm, maxArgs: 1})
	reg.add(ql2.Term_LITERAL, termDef{fn: literalTerm, maxArgs: 1})
	reg.add(ql2.Term_TO_JSON_STRING, termDef{fn: toJSONStringTerm, minArgs: 1, maxArgs: 1})
	// INFO and JSON stay unregistered, so check() refuses them with
	// ErrUnsupported: their output (pretty-printed values, rapidjson's parse
	// errors) is not reproduced exactly. Times are in terms_time.go.
}

// datumNumber is datum_t::as_num.
func datumNumber(d any) (float64, error) {
	f, ok := d.(float64)
	if !ok {
		return 0, expected("NUMBER", d)
	}
	return f, nil
}

// datumString is datum_t::as_str.
func datumString(d any) (string, error) {
	s, ok := d.(string)
	if !ok {
		return "", expected("STRING", d)
	}
	return s, nil
}

// datumInteger is datum_t::as_int: a whole number within ±2^53.
func datumInteger(d any) (int64, error) {
	f, err := datumNumber(d)
	if err != nil {
		return 0, err
	}
	return checkedInt(f)
}

// finiteNumber is the datum_t(double) constructor, which refuses infinities
// and NaN.
func finiteNumber(f float64) (any, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, ErrQueryLogic("Non-finite number: %s", formatReconstructable(f))
	}
	return f, nil
}

// valueTruthy is val_t::as_bool: everything but false and null is true, and
// only datums have a truth value.
func valueTruthy(v any) (bool, error) {
	d, err := asDatum(v)
	if err != nil {
		return false, err
	}
	return datumTruthy(d), nil
}

// asFunction is val_t::as_func with the constant shortcut: a function, or a
// datum standing for the function that returns it.
func asFunction(v any) (*funcVal, error) {
	if f, ok := v.(*funcVal); ok {
		return f, nil
	}
	d, err := asDatum(v)
	if err != nil {
		return nil, valueTypeError("FUNCTION", v)
	}
	return &funcVal{body: &Term{Type: ql2.Term_DATUM, Datum: d}}, nil
}

// Comparison and logic.

func compareTerm(ec *evalCtx, t *Term) (any, error) {
	// NE is EQ inverted, so r.ne(1, 1, 2) is true: not all equal.
	invert := t.Type == ql2.Term_NE
	lhs, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	for _, a := range t.Args[1:] {
		rhs, err := ec.strictDatum(a)
		if err != nil {
			return nil, err
		}
		if !comparisonHolds(t.Type, lhs, rhs) {
			return invert, nil
		}
		lhs = rhs
	}
	return !invert, nil
}

func comparisonHolds(tt ql2.Term_TermType, lhs, rhs any) bool {
	c := Compare(lhs, rhs)
	switch tt {
	case ql2.Term_LT:
		return c < 0
	case ql2.Term_LE:
		return c <= 0
	case ql2.Term_GT:
		return c > 0
	case ql2.Term_GE:
		return c >= 0
	}
	return c == 0 // EQ, and NE before inversion
}

func notTerm(ec *evalCtx, t *Term) (any, error) {
	b, err := ec.truthy(t.Args[0])
	return !b, err
}

// andTerm returns the first falsy argument or the last one: r.and(1, 2) is 2.
func andTerm(ec *evalCtx, t *Term) (any, error) { return ec.shortCircuit(t, true, false) }

// orTerm returns the first truthy argument or the last one.
func orTerm(ec *evalCtx, t *Term) (any, error) { return ec.shortCircuit(t, false, true) }

// shortCircuit evaluates t's arguments in order until one's truth is stop,
// and returns that one, or the last, or empty when there are none.
func (ec *evalCtx) shortCircuit(t *Term, empty, stop bool) (any, error) {
	var v any = empty
	for _, a := range t.Args {
		var err error
		if v, err = ec.eval(a); err != nil {
			return nil, err
		}
		b, err := valueTruthy(v)
		if err != nil {
			return nil, err
		}
		if b == stop {
			break
		}
	}
	return v, nil
}

// branchTerm is r.branch(test1, value1, test2, value2, ..., else).
func branchTerm(ec *evalCtx, t *Term) (any, error) {
	if len(t.Args)%2 == 0 {
		return nil, ErrQueryLogic("Cannot call `branch` term with an even number of arguments.")
	}
	for i := 0; i+1 < len(t.Args); i += 2 {
		b, err := ec.truthy(t.Args[i])
		if err != nil {
			return nil, err
		}
		if b {
			return ec.eval(t.Args[i+1])
		}
	}
	return ec.eval(t.Args[len(t.Args)-1])
}

// Errors and default.

// emptyRErrorMsg is r.error() without a message (EMPTY_USER): inside default
// it rethrows the error default caught; escaping to the client it is a
// QUERY_LOGIC error.
const emptyRErrorMsg = "Empty ERROR term outside a default block."

func isEmptyError(err error) bool {
	var rerr *Error
	return errors.As(err, &rerr) && rerr.Response == ql2.Response_RUNTIME_ERROR &&
		rerr.Type == ql2.Response_QUERY_LOGIC && rerr.Msg == emptyRErrorMsg
}

func errorTerm(ec *evalCtx, t *Term) (any, error) {
	if len(t.Args) == 0 {
		return nil, ErrQueryLogic("%s", emptyRErrorMsg)
	}
	d, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	msg, err := datumString(d)
	if err != nil {
		return nil, err
	}
	return nil, ErrUser("%s", msg)
}

// defaultTerm is x.default(y): y (or y(message)) when x is null or fails
// with a NON_EXISTENCE error (a missing field, an index out of range, a
// type error on null). Other errors pass through.
func defaultTerm(ec *evalCtx, t *Term) (any, error) {
	var funcArg any // the error message, or null when x was null
	var caught *Error
	v, err := ec.eval(t.Args[0])
	if err != nil {
		var rerr *Error
		if !errors.As(err, &rerr) || rerr.Response != ql2.Response_RUNTIME_ERROR ||
			rerr.Type != ql2.Response_NON_EXISTENCE || ec.ctx.Err() != nil {
			return nil, err
		}
		caught, funcArg = rerr, rerr.Msg
	} else {
		if !isDatumValue(v) {
			return v, nil
		}
		d, err := asDatum(v)
		if err != nil {
			return nil, err
		}
		if d != nil {
			return v, nil
		}
	}
	def, err := ec.eval(t.Args[1])
	if err == nil {
		if f, ok := def.(*funcVal); ok {
			def, err = ec.call(f, funcArg)
		}
	}
	if err != nil {
		if !isEmptyError(err) {
			return nil, err
		}
		// default(r.error()) keeps the original outcome.
		if caught != nil {
			return nil, caught
		}
		return v, nil
	}
	return def, nil
}

// funcallTerm is r.do: [64, [function, args...]].
func funcallTerm(ec *evalCtx, t *Term) (any, error) {
	fv, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	f, err := asFunction(fv)
	if err != nil {
		return nil, err
	}
	if len(t.Args) == 1 {
		return ec.call(f)
	}
	first, err := ec.eval(t.Args[1])
	if err != nil {
		return nil, err
	}
	args := make([]any, 1, len(t.Args)-1)
	for _, a := range t.Args[2:] {
		d, err := ec.strictDatum(a)
		if err != nil {
			return nil, err
		}
		args = append(args, d)
	}
	if args[0], err = asDatum(first); err != nil {
		return nil, err
	}
	return ec.call(f, args...)
}

// Types.

func typeOfTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	if _, sel := v.(*singleVal); isDatumValue(v) && !sel {
		return TypeName(v), nil
	}
	return typeName(v), nil
}

// coerceTypes are coerce_to's type names, as in type_manip.cc's coerce_map_t.
var coerceTypes = []string{"DB", "TABLE", "TABLE_SLICE", "SELECTION<STREAM>",
	"SELECTION<ARRAY>", "STREAM", "SELECTION<OBJECT>", "DATUM", "FUNCTION", "GROUPED_DATA",
	"NULL", "BINARY", "BOOL", "NUMBER", "STRING", "ARRAY", "OBJECT", "MINVAL", "MAXVAL"}

// coerceKinds are the coerce_to types that name a kind of value rather than
// a type of datum: any value of that kind already is one.
var coerceKinds = []string{"DB", "TABLE", "TABLE_SLICE", "SELECTION<STREAM>", "STREAM",
	"SELECTION<OBJECT>", "DATUM", "FUNCTION", "GROUPED_DATA"}

// datumCoerceName is a datum's type in coerce_to's terms: times and other
// pseudo-type objects are OBJECT, binary is BINARY.
func datumCoerceName(d any) string {
	switch rank(d) {
	case rankBinary:
		return "BINARY"
	case rankTime, rankGeometry:
		return "OBJECT"
	}
	return TypeName(d)
}

// coerceSupertype is the value kind a coerce_to type name stands for, ""
// for the datum subtypes.
func coerceSupertype(name string) string {
	switch name {
	case "DB", "TABLE", "TABLE_SLICE", "STREAM", "DATUM", "FUNCTION", "GROUPED_DATA":
		return name
	case "SELECTION<STREAM>", "SELECTION<ARRAY>":
		return "SELECTION"
	case "SELECTION<OBJECT>":
		return "SINGLE_SELECTION"
	}
	return "DATUM"
}

// valueConvertible is raw_type_is_convertible: which kinds of value can stand
// for which.
func valueConvertible(v any, kind string) bool {
	switch v.(type) {
	case *dbVal:
		return kind == "DB"
	case *tableVal:
		return kind == "TABLE" || kind == "TABLE_SLICE" || kind == "SELECTION" || kind == "STREAM"
	case *singleVal:
		return kind == "SINGLE_SELECTION" || kind == "DATUM"
	case *funcVal:
		return kind == "FUNCTION"
	case Feed:
		return kind == "STREAM"
	case *streamVal:
		switch valueRawType(v) {
		case "TABLE_SLICE":
			return kind == "TABLE_SLICE" || kind == "SELECTION" || kind == "STREAM"
		case "SELECTION":
			return kind == "SELECTION" || kind == "STREAM"
		}
		return kind == "STREAM"
	}
	return kind == "DATUM" || kind == "STREAM"
}

func coerceToTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	var d any
	startName := typeName(v)
	if isDatumValue(v) {
		if d, err = asDatum(v); err != nil {
			return nil, err
		}
		startName = datumCoerceName(d)
	}
	nd, err := ec.strictDatum(t.Args[1])
	if err != nil {
		return nil, err
	}
	endName, err := datumString(nd)
	if err != nil {
		return nil, err
	}
	endName = strings.ToUpper(endName)
	if !slices.Contains(coerceTypes, endName) {
		return nil, ErrQueryLogic("Unknown Type: %s", endName)
	}
	super := coerceSupertype(endName)
	// Identity: the value already is of that kind.
	if (slices.Contains(coerceKinds, endName) && valueConvertible(v, super)) || startName == endName {
		return v, nil
	}
	if endName == "BOOL" {
		return d != nil || !isDatumValue(v), nil
	}
	if isDatumValue(v) && super == "DATUM" {
		switch {
		case startName == "BINARY" && endName == "STRING":
			return binaryAsString(d)
		case startName == "STRING" && endName == "BINARY":
			return map[string]any{"$reql_type$": "BINARY",
				"data": base64.StdEncoding.EncodeToString([]byte(d.(string)))}, nil
		case endName == "STRING":
			b, err := appendReqlJSON(nil, d)
			if err != nil {
				return nil, err
			}
			return string(b), nil
		case startName == "OBJECT" && endName == "ARRAY":
			o := d.(map[string]any)
			pairs := make([]any, 0, len(o))
			for _, k := range sortedKeys(o) {
				pairs = append(pairs, []any{k, o[k]})
			}
			return pairs, nil
		case startName == "STRING" && endName == "NUMBER":
			return parseCNumber(d.(string))
		}
	}
	if valueConvertible(v, "STREAM") && (!isDatumValue(v) || startName == "ARRAY") {
		switch endName {
		case "ARRAY", "DATUM":
			return ec.toDatum(v)
		case "OBJECT":
			return ec.pairsToObject(v)
		}
	}
	if !isDatumValue(v) {
		return nil, ErrQueryLogic("Cannot coerce %s to %s.", startName, endName)
	}
	return nil, typedError(d, "Cannot coerce %s to %s.", startName, endName)
}

// binaryAsString is a binary datum's contents as a string.
func binaryAsString(d any) (any, error) {
	data, _ := d.(map[string]any)["data"].(string)
	b, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, ErrQueryLogic("Invalid base64 format, data found: %s", data)
	}
	return string(b), nil
}

// pairsToObject is coerce_to('object') of a sequence of [key, value] pairs.
func (ec *evalCtx) pairsToObject(v any) (any, error) {
	out := map[string]any{}
	for row, err := range ec.rows(v) {
		if err != nil {
			return nil, err
		}
		pair, ok := row.([]any)
		if !ok {
			return nil, expected("ARRAY", row)
		}
		if len(pair) != 2 {
			return nil, ErrQueryLogic("Expected array of size 2, but got size %d.", len(pair))
		}
		key, err := datumString(pair[0])
		if err != nil {
			return nil, err
		}
		if old, dup := out[key]; dup {
			return nil, ErrQueryLogic("Duplicate key %s in coerced object.  (got %s and %s as values)",
				Print(key), truncPrint(old), truncPrint(pair[1]))
		}
		out[key] = pair[1]
	}
	return sanitizePseudoType(out)
}

// cNumber matches what C's sscanf("%lf%c") accepts as the whole string after
// leading blanks: decimal and hexadecimal floats, inf, infinity and nan.
var cNumber = regexp.MustCompile(`^[+-]?(` +
	`(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|` +
	`0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)([pP][+-]?\d+)?|` +
	`(?i:inf|infinity|nan(\([0-9A-Za-z_]*\))?))$`)

// parseCNumber is coerce_to('number') of a string, which RethinkDB parses
// with sscanf: leading blanks are skipped, anything after the number fails.
func parseCNumber(s string) (any, error) {
	body := strings.TrimLeft(s, " \t\n\v\f\r")
	if !cNumber.MatchString(body) {
		return nil, ErrQueryLogic("Could not coerce `%s` to NUMBER.", s)
	}
	neg := strings.HasPrefix(body, "-")
	unsigned := strings.TrimLeft(body, "+-")
	lower := strings.ToLower(unsigned)
	switch {
	case strings.HasPrefix(lower, "nan"):
		f := math.NaN()
		if neg {
			f = math.Copysign(f, -1)
		}
		return finiteNumber(f)
	case strings.HasPrefix(lower, "0x") && !strings.ContainsAny(lower, "p"):
		// Go wants a binary exponent on hexadecimal floats; C does not.
		body += "p0"
	}
	f, err := strconv.ParseFloat(body, 64)
	var nerr *strconv.NumError
	if err != nil && !(errors.As(err, &nerr) && errors.Is(nerr.Err, strconv.ErrRange)) {
		return nil, ErrQueryLogic("Could not coerce `%s` to NUMBER.", s)
	}
	// Out of range is ±Inf (or 0), as strtod gives.
	return finiteNumber(f)
}

// UUIDs and literals.

// uuidNamespace is RethinkDB's base_key_id, the namespace of r.uuid(name).
var uuidNamespace = [16]byte{0x91, 0x46, 0x1c, 0x99, 0xf8, 0x9d, 0x49, 0xd2,
	0xaf, 0x96, 0xd8, 0xe2, 0xe1, 0x4e, 0x9b, 0x58}

// nameUUID is r.uuid(name), a version 5 UUID: r.uuid('magic') is
// 97dd10a5-4fc4-554f-86c5-0d2c2e3d5330 on every RethinkDB.
func nameUUID(name string) string {
	h := sha1.New()
	h.Write(uuidNamespace[:])
	h.Write([]byte(name))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func uuidTerm(ec *evalCtx, t *Term) (any, error) {
	if len(t.Args) == 0 {
		return newUUID(), nil
	}
	d, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	name, err := datumString(d)
	if err != nil {
		return nil, err
	}
	return nameUUID(name), nil
}

// literalTerm builds the LITERAL pseudo-type that merge and update read (see
// mergeDatum). Anywhere else it is refused, and its own argument is
// evaluated without LITERAL_OK, so literals cannot nest (literal_term_t in
// obj_or_seq.cc).
func literalTerm(ec *evalCtx, t *Term) (any, error) {
	if !ec.termLiteralOK {
		return nil, ErrQueryLogic("%s", strayLiteralMsg)
	}
	lit := map[string]any{"$reql_type$": "LITERAL"}
	if len(t.Args) == 1 {
		d, err := ec.strictDatum(t.Args[0])
		if err != nil {
			return nil, err
		}
		lit["value"] = d
	}
	return lit, nil
}

const strayLiteralMsg = "Stray literal keyword found: literal is only legal inside of " +
	"the object passed to merge or update and cannot nest inside other literals."

// JSON as RethinkDB writes it (rapidjson's Writer): coerce_to('string') and
// to_json_string.

func toJSONStringTerm(ec *evalCtx, t *Term) (any, error) {
	d, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	b, err := appendReqlJSON(nil, d)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// appendReqlJSON writes d as compact JSON with rapidjson's conventions:
// object keys sorted, integers without a fraction, other numbers in
// rapidjson's shortest form (1e21, 0.000001, 1.5e-7, 9007199254740994.0),
// control characters escaped in upper-case hex, nothing else escaped.
func appendReqlJSON(b []byte, d any) ([]byte, error) {
	switch x := d.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case float64:
		return appendRapidNumber(b, x), nil
	case string:
		return appendRapidString(b, x), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendReqlJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		b = append(b, '{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRapidString(b, k)
			b = append(b, ':')
			var err error
			if b, err = appendReqlJSON(b, x[k]); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case minVal:
		return nil, ErrQueryLogic("Cannot convert `r.minval` to JSON.")
	case maxVal:
		return nil, ErrQueryLogic("Cannot convert `r.maxval` to JSON.")
	}
	return nil, ErrQueryLogic("Expected type DATUM but found %s.", typeName(d))
}
