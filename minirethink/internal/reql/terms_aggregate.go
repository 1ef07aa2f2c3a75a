package reql

import (
	"encoding/base64"
	"iter"
	"strings"
	"unicode/utf8"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Aggregating sequences: count and is_empty.

func aggregateTerms(reg termTable) {
	reg.add(ql2.Term_COUNT, termDef{fn: countTerm, minArgs: 1, maxArgs: 2})
	reg.add(ql2.Term_IS_EMPTY, termDef{fn: isEmptyTerm, minArgs: 1, maxArgs: 1})
}

// ---------------------------------------------------------------------------
// count, is_empty

func countTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	if _, isFeed := v.(Feed); isFeed {
		return nil, errInfiniteTerminal
	}
	if len(t.Args) == 1 {
		if tv, ok := v.(*tableVal); ok {
			return float64(tv.t.Len()), nil
		}
		if d, err := asDatum(v); err == nil {
			switch x := d.(type) {
			case string:
				return float64(utf8.RuneCountInString(x)), nil
			case []any:
				return float64(len(x)), nil
			case map[string]any:
				if rank(x) == rankBinary {
					data, err := binaryBytes(x)
					if err != nil {
						return nil, err
					}
					return float64(len(data)), nil
				}
				return float64(len(x)), nil
			}
		}
		in, err := ec.seqArg(v)
		if err != nil {
			return nil, err
		}
		return countRows(ec, in.seq, func(any) (bool, error) { return true, nil })
	}
	in, err := ec.seqArg(v)
	if err != nil {
		return nil, err
	}
	w, err := ec.eval(t.Args[1])
	if err != nil {
		return nil, err
	}
	if f, ok := w.(*funcVal); ok {
		return countRows(ec, in.seq, func(row any) (bool, error) { return ec.filterRow(f, nil, row) })
	}
	want, err := asDatum(w)
	if err != nil {
		return nil, err
	}
	return countRows(ec, in.seq, func(row any) (bool, error) { return Equal(row, want), nil })
}

func countRows(ec *evalCtx, seq iter.Seq2[any, error], match func(any) (bool, error)) (any, error) {
	n := 0
	for row, err := range seq {
		if err != nil {
			return nil, err
		}
		ok, err := match(row)
		if err != nil {
			return nil, err
		}
		if ok {
			n++
			if n%interruptEvery == 0 {
				if err := ec.ctx.Err(); err != nil {
					return nil, ErrOpFailed("Query interrupted: %v.", err)
				}
			}
		}
	}
	return float64(n), nil
}

func isEmptyTerm(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	in, err := ec.seqArg(v)
	if err != nil {
		return nil, err
	}
	for _, err := range in.seq {
		if err != nil {
			return nil, err
		}
		return false, nil
	}
	return true, nil
}

// binaryBytes decodes a BINARY pseudo-type's data (RethinkDB itself sends
// it wrapped in lines).
func binaryBytes(b map[string]any) ([]byte, error) {
	s, _ := b["data"].(string)
	s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, ErrQueryLogic("Invalid base64 format, data found: %s", s)
	}
	return data, nil
}
