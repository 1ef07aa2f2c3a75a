package reql

import (
	"fmt"
	"math"
	"testing"
)

// The embedded server's refusals around times: what RethinkDB leaves to
// Boost's parser or computes with overflowing microseconds is an error
// naming the term, never a guess.
func TestTimeRefusals(t *testing.T) {
	m := New()
	runExprCases(t, m, []exprCase{
		{
			name: "iso8601 month 13", query: `[99,["2013-13-01T00:00:00Z"]]`, errType: logicErr,
			errMsg: ErrUnsupported("`iso8601` of \"2013-13-01T00:00:00Z\" (a field out of range, which Boost's parser judges)").Msg,
		},
		{
			name: "iso8601 hour 24", query: `[99,["2013-01-01T24:00Z"]]`, errType: logicErr,
			errMsg: ErrUnsupported("`iso8601` of \"2013-01-01T24:00Z\" (a field out of range, which Boost's parser judges)").Msg,
		},
		{
			name: "iso8601 default offset Boost reads its own way", query: `[99,["2013-01-01T00:00"],{"default_timezone":"+0530"}]`,
			errType: logicErr, errMsg: ErrUnsupported("`iso8601` with the `default_timezone` \"+0530\"").Msg,
		},
		{
			name: "hours of a huge epoch", query: `[133,[[101,[1e13]]]]`, errType: logicErr,
			errMsg: ErrUnsupported("`hours` of a time more than 8e+12 seconds from 1970").Msg,
		},
		{name: "to_epoch_time of a huge epoch", query: `[102,[[101,[1e13]]]]`, want: 1e13},
		{name: "day_of_year of an ordinal date", query: `[132,[[99,["2012-366T12Z"]]]]`, want: 366.0},
		{name: "negative minutes", query: `[100,[[136,[2013,1,1,1,-30,0,"Z"]]]]`, want: "2012-12-31T22:30:00+00:00"},
		// Boost's posix_time_zone takes offsets from -12:00 to +14:00.
		{name: "in_timezone takes +14:30", query: `[127,[[104,[[101,[0]],"+14:30"]]]]`, want: "+14:30"},
		{
			name: "but no calendar term can use it", query: `[128,[[104,[[101,[0]],"+14:30"]]]]`,
			errType: logicErr, errMsg: "Error in time logic: Offset out of range: 14:30:00.",
		},
		{
			name: "nor r.time", query: `[136,[2013,1,1,"-12:01"]]`,
			errType: logicErr, errMsg: "Error in time logic: Offset out of range: -12:01:00.",
		},
		{name: "+14:00 is in range", query: `[100,[[104,[[101,[0]],"+14:00"]]]]`, want: "1970-01-01T14:00:00+14:00"},
		{name: "wrapped year", query: `[128,[[136,[67000,1,1,"Z"]]]]`, want: 1464.0},
	})
}

// TestSanitizeTimeObject: RethinkDB's sanitize_time checks the fields in key
// order and fixes each as it goes, so an error shows the object as far as
// it was fixed.
func TestSanitizeTimeObject(t *testing.T) {
	m := New()
	runExprCases(t, m, []exprCase{
		{
			name: "rounded, then a bad offset", query: `{"$reql_type$":"TIME","epoch_time":1.2345,"timezone":"+25:00"}`,
			errType: logicErr, errMsg: "Invalid time object constructed (invalid timezone string `\"+25:00\"`):\n" +
				"{\n\t\"$reql_type$\":\t\"TIME\",\n\t\"epoch_time\":\t1.235,\n\t\"timezone\":\t\"+25:00\"\n}",
		},
		{
			name: "an epoch that is no number", query: `{"$reql_type$":"TIME","epoch_time":"1","timezone":"Z"}`,
			errType: logicErr, errMsg: "Invalid time object constructed (field `epoch_time` must be a number (got `\"1\"` of type STRING)):\n" +
				"{\n\t\"$reql_type$\":\t\"TIME\",\n\t\"epoch_time\":\t\"1\",\n\t\"timezone\":\t\"Z\"\n}",
		},
		{
			name: "no timezone", query: `{"$reql_type$":"TIME","epoch_time":1}`,
			errType: logicErr, errMsg: "Invalid time object constructed (no field `timezone`):\n" +
				"{\n\t\"$reql_type$\":\t\"TIME\",\n\t\"epoch_time\":\t1\n}",
		},
		// sanitize::tz returns "±hh" before it checks the hours.
		{name: "+25 passes", query: `[127,[{"$reql_type$":"TIME","epoch_time":1,"timezone":"+25"}]]`, want: "+25:00"},
		{
			name: "canonical", query: `{"$reql_type$":"TIME","epoch_time":1.2345,"timezone":"-0530"}`,
			want: map[string]any{"$reql_type$": "TIME", "epoch_time": 1.235, "timezone": "-05:30"},
		},
	})
}

// FuzzISO8601 reads arbitrary strings as r.iso8601 does: no panic, an
// error or a time, and a time's to_iso8601 reads back as the same instant
// (to the millisecond).
//
//	go test -run '^$' -fuzz FuzzISO8601 -fuzztime 30s ./minirethink/internal/reql/
func FuzzISO8601(f *testing.F) {
	for _, seed := range []string{"2013-07-30T20:56:05-07:00", "2013-211T01:21:36.681Z", "20130101T1300+0000",
		"2013", "2013-01", "2013-W01-1", "2013-01-01T13:00:00.123456789+05:30", "201301", "2013-01-01T13:00-00"} {
		f.Add(seed, "")
		f.Add(seed, "+01")
	}
	f.Fuzz(func(t *testing.T, s, defaultTZ string) {
		tm, err := parseISO8601(s, defaultTZ)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("%q: %v is not a ReQL error", s, err)
			}
			return
		}
		rt, err := readTime(tm, "to_iso8601")
		if err != nil {
			return
		}
		back, err := parseISO8601(isoString(t, rt), "")
		if err != nil {
			t.Fatalf("%q: its to_iso8601 does not read back: %v", s, err)
		}
		// Far from 1970 Boost's microseconds, computed in doubles as
		// add_seconds_to_ptime does, can lose the last millisecond, as
		// in RethinkDB.
		a, b := tm.(map[string]any), back.(map[string]any)
		if math.Abs(a["epoch_time"].(float64)-b["epoch_time"].(float64)) > 0.0011 || a["timezone"] != b["timezone"] {
			t.Fatalf("%q: %v read back as %v", s, tm, back)
		}
	})
}

func isoString(t *testing.T, rt reqlTime) string {
	t.Helper()
	m := New()
	res, err := m.Run(t.Context(), Query{Term: decoded(fmt.Sprintf(`[100,[[104,[[101,[%v]],%q]]]]`, rt.epoch, rt.tz))})
	if err != nil {
		t.Fatalf("to_iso8601: %v", err)
	}
	return res.Atom.(string)
}
