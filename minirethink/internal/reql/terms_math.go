package reql

import (
	"math"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Arithmetic, as RethinkDB 2.4's src/rdb_protocol/terms/arith.cc: add, sub,
// mul and div fold their arguments left to right; numbers are float64 and a
// result that is not finite is an error, never an infinity. The bitwise
// terms (bit_and, ...) stay unregistered: check() refuses them as
// unsupported.

func mathTerms(reg termTable) {
	for _, tt := range []ql2.Term_TermType{ql2.Term_ADD, ql2.Term_SUB, ql2.Term_MUL, ql2.Term_DIV} {
		reg.add(tt, termDef{fn: arithTerm, minArgs: 1, maxArgs: -1})
	}
	reg.add(ql2.Term_MOD, termDef{fn: modTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_FLOOR, termDef{fn: roundingTerm(math.Floor), minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_CEIL, termDef{fn: roundingTerm(math.Ceil), minArgs: 1, maxArgs: 1})
	// C's round, like math.Round, rounds halves away from zero.
	reg.add(ql2.Term_ROUND, termDef{fn: roundingTerm(math.Round), minArgs: 1, maxArgs: 1})
}

func arithTerm(ec *evalCtx, t *Term) (any, error) {
	acc, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	op := addDatums
	switch t.Type {
	case ql2.Term_SUB:
		op = subDatums
	case ql2.Term_MUL:
		op = mulDatums
	case ql2.Term_DIV:
		op = divDatums
	}
	for _, a := range t.Args[1:] {
		rhs, err := ec.strictDatum(a)
		if err != nil {
			return nil, err
		}
		if acc, err = op(acc, rhs); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

func isTime(d any) bool {
	o, ok := d.(map[string]any)
	return ok && rank(o) == rankTime
}

// addDatums: numbers add, strings and arrays concatenate, a time plus a
// number of seconds (either way round) is a time.
func addDatums(lhs, rhs any) (any, error) {
	if isTime(lhs) || isTime(rhs) {
		tm, dur := lhs, rhs
		if !isTime(lhs) {
			tm, dur = rhs, lhs
		}
		return shiftTime(tm, dur, 1)
	}
	switch l := lhs.(type) {
	case float64:
		r, err := datumNumber(rhs)
		if err != nil {
			return nil, err
		}
		return finiteNumber(l + r)
	case string:
		r, err := datumString(rhs)
		if err != nil {
			return nil, err
		}
		return l + r, nil
	case []any:
		r, ok := rhs.([]any)
		if !ok {
			return nil, expected("ARRAY", rhs)
		}
		if len(l)+len(r) > arrayLimit {
			return nil, errArrayLimit()
		}
		return append(cloneArray(l, len(r)), r...), nil
	}
	return nil, expected("NUMBER", lhs)
}

// subDatums: numbers subtract; a time minus seconds is a time, a time minus
// a time is the seconds between them.
func subDatums(lhs, rhs any) (any, error) {
	if isTime(lhs) {
		if isTime(rhs) {
			a, _ := lhs.(map[string]any)["epoch_time"].(float64)
			b, _ := rhs.(map[string]any)["epoch_time"].(float64)
			return finiteNumber(math.Round((a-b)*1000) / 1000)
		}
		return shiftTime(lhs, rhs, -1)
	}
	l, r, err := datumNumbers(lhs, rhs)
	if err != nil {
		return nil, err
	}
	return finiteNumber(l - r)
}

// shiftTime moves a time by sign × seconds, keeping its timezone.
func shiftTime(tm, seconds any, sign float64) (any, error) {
	n, err := datumNumber(seconds)
	if err != nil {
		return nil, err
	}
	o := tm.(map[string]any)
	epoch, _ := o["epoch_time"].(float64)
	e, err := finiteNumber(epoch + sign*n)
	if err != nil {
		return nil, err
	}
	// As RethinkDB sanitizes every time it builds: to the millisecond.
	if e, err = finiteNumber(math.Round(e.(float64)*1000) / 1000); err != nil {
		return nil, err
	}
	out := copyObject(o, 0)
	out["epoch_time"] = e
	return out, nil
}

// mulDatums: numbers multiply; an array times a whole number repeats it.
func mulDatums(lhs, rhs any) (any, error) {
	arr, isArr := lhs.([]any)
	num := rhs
	if !isArr {
		arr, isArr = rhs.([]any)
		num = lhs
	}
	if isArr {
		n, err := datumInteger(num)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, ErrQueryLogic("Cannot multiply an ARRAY by a negative number.")
		}
		if n == 0 {
			return []any{}, nil
		}
		if len(arr) == 0 {
			return []any{}, nil
		}
		if int64(len(arr)) > int64(arrayLimit)/n {
			return nil, errArrayLimit()
		}
		out := make([]any, 0, int64(len(arr))*n)
		for range n {
			out = append(out, arr...)
		}
		return out, nil
	}
	l, r, err := datumNumbers(lhs, rhs)
	if err != nil {
		return nil, err
	}
	return finiteNumber(l * r)
}

func divDatums(lhs, rhs any) (any, error) {
	l, r, err := datumNumbers(lhs, rhs)
	if err != nil {
		return nil, err
	}
	if r == 0 {
		return nil, ErrQueryLogic("Cannot divide by zero.")
	}
	return finiteNumber(l / r)
}

// modTerm is integer remainder, with the sign of the dividend as in C.
func modTerm(ec *evalCtx, t *Term) (any, error) {
	a, err := ec.integer(t.Args[0])
	if err != nil {
		return nil, err
	}
	b, err := ec.integer(t.Args[1])
	if err != nil {
		return nil, err
	}
	if b == 0 {
		return nil, ErrQueryLogic("Cannot take a number modulo 0.")
	}
	return float64(a % b), nil
}

func roundingTerm(round func(float64) float64) func(ec *evalCtx, t *Term) (any, error) {
	return func(ec *evalCtx, t *Term) (any, error) {
		f, err := ec.number(t.Args[0])
		if err != nil {
			return nil, err
		}
		return round(f), nil
	}
}

// datumNumbers is as_num of both operands, the left one first.
func datumNumbers(lhs, rhs any) (float64, float64, error) {
	l, err := datumNumber(lhs)
	if err != nil {
		return 0, 0, err
	}
	r, err := datumNumber(rhs)
	return l, r, err
}
