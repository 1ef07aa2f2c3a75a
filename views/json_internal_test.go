package views

import (
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseInteger(t *testing.T) {
	const limit = 1_000_000_000
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"5", 5, ""},
		{"-3", -3, ""},
		{"+3", 3, ""},
		{"007", 7, ""},
		{"-0", 0, ""},
		{"0e-400", 0, ""},
		{"1e3", 1000, ""},
		{"1E3", 1000, ""},
		{"1e+3", 1000, ""},
		{"2.0", 2, ""},
		{"100e-2", 1, ""},
		{"0.5e1", 5, ""},
		{"1e9", limit, ""},
		{"-1e9", -limit, ""},
		{"1.5", 0, "amount must be an integer"},
		{"1e-400", 0, "amount must be an integer"},
		{"1.0000000000000000001", 0, "amount must be an integer"},
		{"5e-999999999999999999999", 0, "amount must be an integer"},
		{"NaN", 0, "amount must be an integer"},
		{"Inf", 0, "amount must be an integer"},
		{"0x10", 0, "amount must be an integer"},
		{"1_000", 0, "amount must be an integer"},
		{"", 0, "amount must be an integer"},
		{"-", 0, "amount must be an integer"},
		{".5", 0, "amount must be an integer"},
		{"5.", 0, "amount must be an integer"},
		{"1e", 0, "amount must be an integer"},
		{"1e5e3", 0, "amount must be an integer"},
		{" 5", 0, "amount must be an integer"},
		{"1000000001", 0, "amount must be between -1000000000 and 1000000000"},
		{"1e300", 0, "amount must be between -1000000000 and 1000000000"},
		{"1e999999999999999999999", 0, "amount must be between -1000000000 and 1000000000"},
		{"99999999999999999999", 0, "amount must be between -1000000000 and 1000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseInteger("amount", tt.in, limit)
			if tt.err != "" {
				assert.EqualError(t, err, "code=400, message="+tt.err)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// Whatever parseInteger accepts is exactly that integer, and it accepts every
// integer within the limit that math/big reads from the same text.
func FuzzParseInteger(f *testing.F) {
	for _, s := range []string{"5", "-3", "1e3", "2.0", "1e-400", "1.0000000000000000001", "100e-2", "9007199254740993"} {
		f.Add(s)
	}
	const limit = 1 << 53
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return // big.Rat would spend its time on huge exponents
		}
		got, err := parseInteger("n", s, limit)
		var r big.Rat
		_, read := r.SetString(s)
		if err == nil {
			if !read || !r.IsInt() || r.Num().Cmp(big.NewInt(got)) != 0 {
				t.Fatalf("parseInteger(%q) = %d, math/big reads %v", s, got, r.String())
			}
			return
		}
		inRange := read && r.IsInt() && r.Num().IsInt64() && r.Num().Int64() >= -limit && r.Num().Int64() <= limit
		if inRange && isPlainDecimal(s) {
			t.Fatalf("parseInteger(%q) refused %v: %v", s, r.String(), err)
		}
	})
}

// isPlainDecimal: the grammar parseInteger documents, which big.Rat extends
// (with "0x", "_", "/", and so on).
func isPlainDecimal(s string) bool {
	_, _, _, ok := splitDecimal(s)
	return ok
}
