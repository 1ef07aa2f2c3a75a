package jsonany

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// scoreWrite is the START query the service sends to add to a score
// (models.Scores), as the driver frames it.
func scoreWrite(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile("testdata/score-write.json")
	if err != nil {
		tb.Fatal(err)
	}
	return bytes.TrimSpace(data)
}

func BenchmarkDecode(b *testing.B) {
	data := scoreWrite(b)
	b.Run("jsonany", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.Unmarshal(data, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
