package reql

import (
	"math"
	"strconv"
	"strings"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// jsIndexFunction renders an index function as index_status's "query"
// shows it: RethinkDB's print_js_function, "function(var1) { return
// <body>; }", with the body rendered by its JavaScript pretty-printer
// (pprint/js_pprint.cc), which this follows term for term:
//   - a field is var1.getField("f") (GET_FIELD, also what index_create(name)
//     makes: _var19.getField("f")) or var1("f") (BRACKET);
//   - terms that chain in JavaScript are chained on their first argument
//     (x.getField(...), x.nth(1), x.do(f) for a one-argument FUNCALL);
//   - the others (arithmetic, comparisons, and/or, branch, ...) are called
//     on r: r.mul(x, -1), r.add(a, b), r.branch(c, a, b);
//   - arrays and objects at the top are r.expr([...]) and r.object("k", v),
//     inside them [...] and {"k": v}; numbers print as C++'s to_string;
//     strings are quoted without escaping, as RethinkDB does.
//
// Differences: RethinkDB lays the text out for a width and breaks lines in
// long bodies and nested functions; this prints one line, nested functions
// as "function (var2) { return ...; }". Optional arguments print in key
// order (RethinkDB: the order they arrived in).
func jsIndexFunction(f *funcVal) string {
	vars := make([]string, len(f.params))
	for i, p := range f.params {
		vars[i] = jsVarName(p)
	}
	p := &jsPrinter{prependOK: true}
	return "function(" + strings.Join(vars, ", ") + ") { return " + p.visit(f.body) + "; }"
}

// jsPrinter is js_pretty_printer_t: inRExpr is set inside r.expr (where
// datums need no wrapping); prependOK is cleared while rendering the head
// of a chain that gets its "r." once, in front of the whole chain.
type jsPrinter struct {
	depth     int
	prependOK bool
	inRExpr   bool
}

// jsMaxDepth is the printer's crude stack guard: past it every term is
// "...". RethinkDB does not unwind the depth when it hits the guard, so
// neither does this.
const jsMaxDepth = 15

func (p *jsPrinter) visit(t *Term) string {
	old := p.inRExpr
	p.depth++
	if p.depth > jsMaxDepth {
		return "..."
	}
	var doc string
	switch t.Type {
	case ql2.Term_DATUM:
		doc = jsDatum(t.Datum)
		if !p.inRExpr {
			doc = p.rExpr(doc)
		}
	case ql2.Term_FUNCALL:
		if len(t.Args) == 2 {
			doc = p.chain(t)
		} else {
			doc = p.toplevelFuncall(t)
		}
	case ql2.Term_MAKE_ARRAY:
		p.inRExpr = true
		doc = p.array(t)
		if !old {
			doc = p.rExpr(doc)
		}
	case ql2.Term_MAKE_OBJ:
		p.inRExpr = true
		if old {
			doc = p.naturalObject(t)
		} else {
			doc = p.wrappedObject(t)
		}
	case ql2.Term_FUNC:
		doc = p.function(t)
	case ql2.Term_VAR:
		doc = jsVarOf(t)
	case ql2.Term_IMPLICIT_VAR:
		doc = p.rDot("row")
	default:
		switch {
		case jsChains(t):
			doc = p.chain(t)
		case jsUsesParens(t):
			doc = p.call(t)
		default:
			doc = p.rDot(jsTermName(t))
		}
	}
	p.inRExpr = old
	p.depth--
	return doc
}

func (p *jsPrinter) rDot(doc string) string {
	if !p.prependOK {
		return doc
	}
	return "r." + doc
}

func (p *jsPrinter) rExpr(doc string) string { return p.rDot("expr(" + doc + ")") }

func (p *jsPrinter) array(t *Term) string {
	old := p.inRExpr
	p.inRExpr = true
	items := make([]string, len(t.Args))
	for i, a := range t.Args {
		items[i] = p.visit(a)
	}
	p.inRExpr = old
	return "[" + strings.Join(items, ", ") + "]"
}

// naturalObject is a MAKE_OBJ as a JavaScript object literal.
func (p *jsPrinter) naturalObject(t *Term) string {
	return p.objectLiteral(t, func(k string) string { return k })
}

func (p *jsPrinter) wrappedObject(t *Term) string {
	items := make([]string, 0, 2*len(t.Opts))
	for _, k := range sortedKeys(t.Opts) {
		items = append(items, `"`+k+`"`, p.visit(t.Opts[k]))
	}
	return p.rDot("object(" + strings.Join(items, ", ") + ")")
}

// optargs are a term's optional arguments, their names as the JavaScript
// driver spells them.
func (p *jsPrinter) optargs(t *Term) string { return p.objectLiteral(t, jsName) }

// objectLiteral is t's optional arguments as {"key": value, ...}, in key
// order, each key spelled by key.
func (p *jsPrinter) objectLiteral(t *Term, key func(string) string) string {
	items := make([]string, 0, len(t.Opts))
	for _, k := range sortedKeys(t.Opts) {
		items = append(items, `"`+key(k)+`": `+p.visit(t.Opts[k]))
	}
	return "{" + strings.Join(items, ", ") + "}"
}

// chain renders a term whose first argument it is called on, and that
// argument's own chain: a.b(x).c(y). The pieces are collected outermost
// first and reversed, as string_dots_together does.
func (p *jsPrinter) chain(t *Term) string {
	var stack []string
	rWrap := false
	v := t
	for v != nil && jsChains(v) {
		v = p.link(v, &stack, &rWrap)
	}
	rest := jsReverse(stack)
	switch {
	case v == nil:
		if rWrap {
			return p.rDot(rest)
		}
		return rest
	case jsUsesRDot(v):
		old := p.prependOK
		p.prependOK = false
		head := p.visit(v)
		p.prependOK = old
		return p.rDot(head + rest)
	default:
		return p.visit(v) + rest
	}
}

// link pushes one term of a chain (reversed) and returns the term it is
// called on, nil when the chain starts here.
func (p *jsPrinter) link(v *Term, stack *[]string, rWrap *bool) *Term {
	push := func(s ...string) { *stack = append(*stack, s...) }
	old := p.inRExpr
	switch v.Type {
	case ql2.Term_BRACKET:
		push(")")
		p.inRExpr = true
		if len(v.Opts) > 0 {
			push(p.optargs(v), " ", ",")
		}
		push(p.visit(v.Args[1]))
		p.inRExpr = old
		push("(")
		*rWrap = false
		return v.Args[0]
	case ql2.Term_FUNCALL:
		push(")")
		p.inRExpr = true
		push(p.visit(v.Args[0]))
		p.inRExpr = old
		push("(", "do", ".")
		*rWrap = true
		return v.Args[1]
	case ql2.Term_IMPLICIT_VAR:
		push("row")
		*rWrap = true
		return nil
	}
	push(")")
	p.inRExpr = true
	trailingComma := false
	if len(v.Opts) > 0 {
		push(p.optargs(v))
		trailingComma = true
	}
	switch len(v.Args) {
	case 0:
		p.inRExpr = old
		push("(", jsTermName(v))
		*rWrap = jsUsesRDot(v)
		return nil
	case 1:
		p.inRExpr = old
		push("(", jsTermName(v), ".")
		*rWrap = jsUsesRDot(v)
		return v.Args[0]
	}
	var args []string
	for i := len(v.Args) - 1; i > 0; i-- {
		if len(args) > 0 {
			args = append(args, ", ")
		}
		args = append(args, p.visit(v.Args[i]))
	}
	if trailingComma {
		push(", ")
	}
	push(jsReverse(args))
	p.inRExpr = old
	push("(", jsTermName(v), ".")
	*rWrap = jsUsesRDot(v)
	return v.Args[0]
}

func jsReverse(pieces []string) string {
	var b strings.Builder
	for i := len(pieces) - 1; i >= 0; i-- {
		b.WriteString(pieces[i])
	}
	return b.String()
}

// toplevelFuncall is r.do with other than one argument. Its missing comma
// after the function and trailing one after the arguments are RethinkDB's.
func (p *jsPrinter) toplevelFuncall(t *Term) string {
	old := p.inRExpr
	p.inRExpr = true
	var args []string
	for _, a := range t.Args[1:] {
		args = append(args, p.visit(a))
	}
	p.inRExpr = old
	tail := strings.Join(args, ", ")
	if len(args) > 0 {
		tail += ", "
	}
	return p.rDot("do(" + p.visit(t.Args[0]) + tail + ")")
}

// call is r.name(args..., {optargs}).
func (p *jsPrinter) call(t *Term) string {
	old := p.inRExpr
	p.inRExpr = true
	args := make([]string, 0, len(t.Args)+1)
	for _, a := range t.Args {
		args = append(args, p.visit(a))
	}
	if len(t.Opts) > 0 {
		args = append(args, p.optargs(t))
	}
	p.inRExpr = old
	doc := jsTermName(t) + "(" + strings.Join(args, ", ") + ")"
	if jsUsesRDot(t) {
		return p.rDot(doc)
	}
	return doc
}

func (p *jsPrinter) function(t *Term) string {
	var vars []string
	if len(t.Args) == 2 && t.Args[0].Type == ql2.Term_MAKE_ARRAY {
		for _, a := range t.Args[0].Args {
			vars = append(vars, jsVarName(a.Datum))
		}
	}
	old := p.inRExpr
	p.inRExpr = false
	body := "..."
	if len(t.Args) == 2 {
		body = p.visit(t.Args[1])
	}
	p.inRExpr = old
	return "function (" + strings.Join(vars, ", ") + ") { return " + body + "; }"
}

func jsVarOf(t *Term) string {
	if len(t.Args) == 1 {
		return jsVarName(t.Args[0].Datum)
	}
	return "var"
}

// jsVarName is pprint's print_var: variables the server makes are
// negative and print as _varN.
func jsVarName(v any) string {
	n, _ := v.(float64)
	i := int64(math.RoundToEven(n))
	if i < 0 {
		return "_var" + strconv.FormatInt(-i, 10)
	}
	return "var" + strconv.FormatInt(i, 10)
}

// jsDatum is to_js_datum.
func jsDatum(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case float64:
		if x == math.Trunc(x) {
			return strconv.FormatFloat(x, 'f', 0, 64)
		}
		return strconv.FormatFloat(x, 'f', 6, 64)
	case string:
		return `"` + x + `"`
	case []any:
		items := make([]string, len(x))
		for i, e := range x {
			items[i] = jsDatum(e)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case map[string]any:
		if rank(x) == rankBinary {
			data, _ := x["data"].(string)
			return "Buffer(" + data + ", 'base64')"
		}
		items := make([]string, 0, len(x))
		for _, k := range sortedKeys(x) {
			items = append(items, `"`+k+`": `+jsDatum(x[k]))
		}
		return "{" + strings.Join(items, ", ") + "}"
	case minVal:
		return "r.minval"
	case maxVal:
		return "r.maxval"
	}
	return "?"
}

// jsName is to_js_name: GET_FIELD is getField.
func jsName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			i++
			if i == len(s) {
				b.WriteByte('_')
				break
			}
			b.WriteString(strings.ToUpper(s[i : i+1]))
			continue
		}
		b.WriteString(strings.ToLower(s[i : i+1]))
	}
	return b.String()
}

func jsTermName(t *Term) string {
	if t.Type == ql2.Term_JAVASCRIPT {
		return "js"
	}
	name, ok := ql2.Term_TermType_name[int32(t.Type)]
	if !ok {
		return "term" + strconv.Itoa(int(t.Type))
	}
	return jsName(name)
}

func jsUsesRDot(t *Term) bool {
	return t.Type != ql2.Term_VAR && t.Type != ql2.Term_DATUM
}

// jsChains is should_continue_string: the terms JavaScript writes as
// methods of their first argument.
func jsChains(t *Term) bool {
	switch t.Type {
	case ql2.Term_TABLE, ql2.Term_FUNCALL:
		return len(t.Args) == 2
	case ql2.Term_ERROR, ql2.Term_UUID, ql2.Term_HTTP, ql2.Term_DB, ql2.Term_EQ, ql2.Term_NE,
		ql2.Term_LT, ql2.Term_LE, ql2.Term_GT, ql2.Term_GE, ql2.Term_NOT, ql2.Term_ADD, ql2.Term_SUB,
		ql2.Term_MUL, ql2.Term_DIV, ql2.Term_MOD, ql2.Term_BIT_AND, ql2.Term_BIT_OR, ql2.Term_BIT_XOR,
		ql2.Term_BIT_NOT, ql2.Term_BIT_SAL, ql2.Term_BIT_SAR, ql2.Term_OBJECT, ql2.Term_RANGE,
		ql2.Term_DB_CREATE, ql2.Term_DB_DROP, ql2.Term_DB_LIST, ql2.Term_BRANCH, ql2.Term_OR,
		ql2.Term_AND, ql2.Term_JSON, ql2.Term_ISO8601, ql2.Term_EPOCH_TIME, ql2.Term_NOW,
		ql2.Term_TIME, ql2.Term_LITERAL, ql2.Term_RANDOM, ql2.Term_GEOJSON, ql2.Term_POINT,
		ql2.Term_LINE, ql2.Term_POLYGON, ql2.Term_CIRCLE, ql2.Term_DATUM, ql2.Term_VAR,
		ql2.Term_MAKE_ARRAY, ql2.Term_MAKE_OBJ, ql2.Term_ARGS, ql2.Term_JAVASCRIPT, ql2.Term_ASC,
		ql2.Term_DESC, ql2.Term_MINVAL, ql2.Term_MAXVAL:
		return false
	}
	return !jsConstant(t)
}

// jsConstant reports the terms printed without parentheses (r.minval,
// r.monday, ...). They are also excluded from chaining.
func jsConstant(t *Term) bool {
	switch t.Type {
	case ql2.Term_MONDAY, ql2.Term_TUESDAY, ql2.Term_WEDNESDAY, ql2.Term_THURSDAY, ql2.Term_FRIDAY,
		ql2.Term_SATURDAY, ql2.Term_SUNDAY, ql2.Term_JANUARY, ql2.Term_FEBRUARY, ql2.Term_MARCH,
		ql2.Term_APRIL, ql2.Term_MAY, ql2.Term_JUNE, ql2.Term_JULY, ql2.Term_AUGUST,
		ql2.Term_SEPTEMBER, ql2.Term_OCTOBER, ql2.Term_NOVEMBER, ql2.Term_DECEMBER:
		return true
	}
	return false
}

// jsUsesParens is should_use_parens.
func jsUsesParens(t *Term) bool {
	if len(t.Args) > 0 {
		return true
	}
	switch t.Type {
	case ql2.Term_MINVAL, ql2.Term_MAXVAL, ql2.Term_IMPLICIT_VAR:
		return false
	}
	return !jsConstant(t)
}
