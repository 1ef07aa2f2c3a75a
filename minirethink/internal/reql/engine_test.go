package reql

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// run evaluates a query given as JSON against m, for engine-level tests.
func run(t *testing.T, m *Memory, query string) (Result, error) {
	t.Helper()
	return m.Run(context.Background(), Query{Term: json.RawMessage(query)})
}

func TestCoreTerms(t *testing.T) {
	m := New()
	tests := []struct {
		name  string
		query string
		want  any
	}{
		{"number datum", `1`, 1.0},
		{"array", `[2,[1,"a",[2,[]]]]`, []any{1.0, "a", []any{}}},
		{"object of terms", `{"a":[2,[1]]}`, map[string]any{"a": []any{1.0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := run(t, m, tt.query)
			require.NoError(t, err)
			assert.Equal(t, Atom, res.Kind)
			assert.Equal(t, tt.want, res.Atom)
		})
	}
}

func TestUnsupportedTermNamesTheTerm(t *testing.T) {
	// SPLIT (149) is a real term we do not implement.
	_, err := run(t, New(), `[149,["a b"]]`)
	var rerr *Error
	require.ErrorAs(t, err, &rerr)
	assert.Contains(t, rerr.Msg, "Term SPLIT")
	assert.Contains(t, rerr.Msg, "not supported")
}

func TestCompare(t *testing.T) {
	// ReQL's order across types: arrays, booleans, null, numbers, objects,
	// binary, times, strings.
	ordered := []any{
		minVal{},
		[]any{1.0}, []any{1.0, 2.0}, false, true, nil, -1.0, 2.0,
		map[string]any{"a": 1.0},
		map[string]any{"$reql_type$": "BINARY", "data": "AA=="},
		map[string]any{"$reql_type$": "TIME", "epoch_time": 1.0, "timezone": "+00:00"},
		"", "a", "b",
		maxVal{},
	}
	for i := range ordered {
		for j := range ordered {
			want := cmpInt(i, j)
			assert.Equal(t, want, Compare(ordered[i], ordered[j]), "%v vs %v", ordered[i], ordered[j])
		}
	}
}
