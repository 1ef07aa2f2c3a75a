package minirethink

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Times through the real driver. The expected values are RethinkDB's own:
// its test suite at v2.4.4, test/rql_test/src/times/{api,constructors,
// portions,timezones}.yaml (cited per case as api:, constructors:, ...),
// and where those have none, what src/rdb_protocol/pseudo_time.cc computes
// (cited as pseudo_time.cc: function).

// t1 is api.yaml's t1: r.epoch_time(1375147296.6812), which RethinkDB
// keeps to the millisecond.
var t1 = r.EpochTime(1375147296.6812)

func TestTimeValues(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		s := tg.Connect(t)
		july29 := r.Time(2013, r.July, 29, 23, 30, 0, "+00:00") // timezones.yaml's t1
		for _, tc := range []struct {
			name string
			q    r.Term
			want any
		}{
			// api.yaml: arithmetic, comparisons, during.
			{"api: add", t1.Add(1000).ToEpochTime(), 1375148296.681},
			{"api: sub", t1.Sub(1000).ToEpochTime(), 1375146296.681},
			{"api: sub times", t1.Sub(t1.Sub(1000)), 1000.0},
			{"api: lt", t1.Lt(t1.Add(1000)), true},
			{"api: during", t1.During(t1, t1.Add(1000)), true},
			{"api: during left open", t1.During(t1, t1.Add(1000), r.DuringOpts{LeftBound: "open"}), false},
			{"api: during empty", t1.During(t1, t1), false},
			{"api: during right closed", t1.During(t1, t1, r.DuringOpts{RightBound: "closed"}), true},
			{"during: a bound option is read only on that bound (op.cc: bounded_op_term_t)",
				t1.During(t1.Sub(1), t1.Add(1), r.DuringOpts{LeftBound: "neither"}), true},
			// api.yaml: portions of t1.
			{"api: date", t1.Date().ToEpochTime(), 1375142400.0},
			{"api: time_of_day", t1.TimeOfDay(), 4896.681},
			{"api: year", t1.Year(), 2013.0},
			{"api: month", t1.Month(), 7.0},
			{"api: day", t1.Day(), 30.0},
			{"api: day_of_week", t1.DayOfWeek(), 2.0},
			{"api: day_of_year", t1.DayOfYear(), 211.0},
			{"api: hours", t1.Hours(), 1.0},
			{"api: minutes", t1.Minutes(), 21.0},
			{"api: seconds", t1.Seconds(), 36.681},
			// api.yaml: construction and conversion.
			{"api: time with 7 arguments", r.Time(2013, r.July, 29, 23, 30, 0.1, "-07:00").ToEpochTime(), 1375165800.1},
			{"api: its timezone", r.Time(2013, r.July, 29, 23, 30, 0.1, "-07:00").Timezone(), "-07:00"},
			{"api: time with 4 arguments", r.Time(2013, r.July, 29, "-07:00").ToEpochTime(), 1375081200.0},
			{"api: iso8601", r.ISO8601("2013-07-30T20:56:05-07:00").ToEpochTime(), 1375242965.0},
			{"api: to_iso8601 in a time zone", r.EpochTime(1375242965).InTimezone("-07:00").ToISO8601(), "2013-07-30T20:56:05-07:00"},
			{"api: type_of", r.Now().TypeOf(), "PTYPE<TIME>"},
			{"api: default_timezone", r.ISO8601("2013-07-30T20:56:05", r.ISO8601Opts{DefaultTimezone: "-07"}).ToISO8601(),
				"2013-07-30T20:56:05-07:00"},
			{"api: days", r.Expr([]any{r.Monday, r.Tuesday, r.Wednesday, r.Thursday, r.Friday, r.Saturday, r.Sunday}),
				[]any{1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0}},
			{"api: months", r.Expr([]any{r.January, r.February, r.March, r.April, r.May, r.June, r.July, r.August,
				r.September, r.October, r.November, r.December}),
				[]any{1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0}},
			// constructors.yaml: milliseconds, and the calendar's range.
			{"constructors: epoch_time rounds", r.EpochTime(1.4444445).ToEpochTime(), 1.444},
			{"constructors: to_iso8601 rounds", r.EpochTime(1.4444445).ToISO8601(), "1970-01-01T00:00:01.444+00:00"},
			{"constructors: seconds", r.EpochTime(1.4444445).Seconds(), 1.444},
			{"constructors: 1.001", r.EpochTime(1.001).ToISO8601(), "1970-01-01T00:00:01.001+00:00"},
			{"constructors: 2.058", r.EpochTime(2.058).ToISO8601(), "1970-01-01T00:00:02.058+00:00"},
			{"constructors: year 10000", r.EpochTime(253430000000).Year(), 10000.0},
			{"constructors: year 1400", r.EpochTime(-17980000000).Year(), 1400.0},
			{"constructors: out of range keeps its epoch", r.EpochTime(253440000000).ToEpochTime(), 253440000000.0},
			// portions.yaml: rt4.
			{"portions: rt4", r.Expr([]any{r.EpochTime(2375147296.681)}).Map(func(x r.Term) any {
				return []any{x.Year(), x.Month(), x.Day(), x.Hours(), x.Minutes(), x.Seconds(), x.DayOfWeek(), x.DayOfYear()}
			}), []any{[]any{2045.0, 4.0, 7.0, 3.0, 8.0, 16.681, 5.0, 97.0}}},
			{"portions: rt4 date", r.EpochTime(2375147296.681).Date().ToEpochTime(), 2375136000.0},
			{"portions: rt4 time_of_day", r.EpochTime(2375147296.681).TimeOfDay(), 11296.681},
			{"portions: r.time of the portions is the time", r.Expr([]any{r.EpochTime(1375147297.681)}).Map(func(x r.Term) any {
				return r.Time(x.Year(), x.Month(), x.Day(), x.Hours(), x.Minutes(), x.Seconds(), x.Timezone()).ToEpochTime()
			}), []any{1375147297.681}},
			// timezones.yaml.
			{"timezones: Z", july29.InTimezone("Z").Timezone(), "+00:00"},
			{"timezones: +00", july29.InTimezone("+00").Timezone(), "+00:00"},
			{"timezones: -00:59 day", july29.InTimezone("-00:59").Day(), 29.0},
			{"timezones: -01:01", july29.InTimezone("-01:01").Timezone(), "-01:01"},
			{"timezones: +00:59 day", july29.InTimezone("+00:59").Day(), 30.0},
			{"timezones: +01:01 day", july29.InTimezone("+01:01").Day(), 30.0},
			{"timezones: one instant in every zone", july29.InTimezone("+01:01").Sub(july29.InTimezone("-00:59")), 0.0},
			{"timezones: date -08:00", r.EpochTime(1436428422.339).InTimezone("-08:00").Date().ToISO8601(), "2015-07-08T00:00:00-08:00"},
			{"timezones: date -07:00", r.EpochTime(1436428422.339).InTimezone("-07:00").Date().ToISO8601(), "2015-07-09T00:00:00-07:00"},
			// Equality and order across zones compare the epoch alone
			// (datum.cc: datum_t::cmp calls pseudo_time.cc: time_cmp).
			{"equal across zones", r.Time(2013, 7, 29, 23, 30, 0, "+00:00").Eq(r.Time(2013, 7, 30, 1, 0, 0, "+01:30")), true},
			{"ordered across zones", r.Time(2013, 7, 30, 0, 30, 0, "+01:00").Lt(r.Time(2013, 7, 29, 23, 31, 0, "Z")), true},
			{"in_timezone keeps the instant", july29.InTimezone("-05:00").ToEpochTime(), 1375140600.0},
			// pseudo_time.cc: sanitize::tz, time_to_iso8601.
			{"hhmm offset", july29.InTimezone("+0530").ToISO8601(), "2013-07-30T05:00:00+05:30"},
			{"ordinal date", r.ISO8601("2013-211T01:21:36.681Z").ToEpochTime(), 1375147296.681},
			{"compact date and time", r.ISO8601("20130730T012136+0100").ToISO8601(), "2013-07-30T01:21:36+01:00"},
			{"year alone", r.ISO8601("2013", r.ISO8601Opts{DefaultTimezone: "Z"}).ToISO8601(), "2013-01-01T00:00:00+00:00"},
			{"fraction cut to milliseconds", r.ISO8601("2013-07-30T01:21:36.6819Z").ToISO8601(), "2013-07-30T01:21:36.682+00:00"},
			{"before 1970", r.EpochTime(-0.5).ToISO8601(), "1969-12-31T23:59:59.500+00:00"},
			// time_portion: whole seconds plus modf's (negative) fraction.
			{"seconds before 1970", r.EpochTime(-0.5).Seconds(), 58.5},
			// make_time: Boost's time_duration rolls over.
			{"hours roll over", r.Time(2013, 1, 1, 25, 0, 0, "Z").ToISO8601(), "2013-01-02T01:00:00+00:00"},
			// sanitize_time: a time sent by a client is rounded and its
			// offset put in canonical form.
			{"sent time sanitized", r.Expr(map[string]any{"$reql_type$": "TIME", "epoch_time": 1.2345, "timezone": "Z"}).Timezone(), "+00:00"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if want, ok := tc.want.([]any); ok {
					assert.Equal(t, want, readArray(t, s, tc.q))
					return
				}
				assert.Equal(t, tc.want, readValue(t, s, tc.q))
			})
		}
	})
}

// TestTimeISO8601Forms is constructors.yaml's check: every form of one
// date, time and offset reads as the same time, and each malformed one
// fails with a QUERY_LOGIC error.
func TestTimeISO8601Forms(t *testing.T) {
	dates := []string{"2013", "2013-01", "2013-01-01", "20130101", "2013-001", "2013001"}
	times := []string{"13", "13:00", "1300", "13:00:00", "13:00:00.000000", "130000.000000"}
	tzs := []string{"Z", "+00", "+0000", "+00:00"}
	var good []any
	for _, d := range dates {
		for _, tm := range times {
			for _, tz := range tzs {
				good = append(good, d+"T"+tm+tz)
			}
		}
	}
	var bad []string
	for _, d := range []string{"201301", "2013-0101", "2a13", "2013+01", "2013-01-01.1"} {
		bad = append(bad, d+"T13:00Z")
	}
	for _, tm := range []string{"a3", "13:0000", "13:000", "13:00.00", "130000.00000000a"} {
		bad = append(bad, "2013-01-01T"+tm+"Z")
	}
	for _, tz := range []string{"X", "-7", "-07:-1", "+07+01", "PST", "UTC", "Z+00"} {
		bad = append(bad, "2013-01-01T13:00"+tz)
	}
	eachTarget(t, func(t *testing.T, tg target) {
		s := tg.Connect(t)
		got := readArray(t, s, r.Expr(good).Map(func(x r.Term) any { return r.ISO8601(x).ToISO8601() }))
		for i, g := range got {
			assert.Equal(t, "2013-01-01T13:00:00+00:00", g, "%s", good[i])
		}
		for _, b := range bad {
			err := r.ISO8601(b).Exec(s)
			var logic r.RQLQueryLogicError
			if assert.ErrorAs(t, err, &logic, "%s", b) {
				assert.NotContains(t, err.Error(), "not supported", "%s", b)
			}
		}
	})
}

func TestTimeErrors(t *testing.T) {
	eachTarget(t, func(t *testing.T, tg target) {
		s := tg.Connect(t)
		for _, tc := range []struct {
			name string
			q    r.Term
			want string
		}{
			{"api: 6 arguments", r.Time(2013, r.July, 29, 23, 30, 0.1), "Got 6 arguments to TIME (expected 4 or 7)."},
			{"api: 5 arguments", r.Time(2013, r.July, 29, 23, 30), "Got 5 arguments to TIME (expected 4 or 7)."},
			{"api: a number for the time zone", r.Time(2013, r.July, 29, 23), "Expected type STRING but found NUMBER."},
			{"api: no time zone in the string", r.ISO8601("2013-07-30T20:56:05"),
				"ISO 8601 string has no time zone, and no default time zone was provided."},
			{"constructors: year 10000 in ISO 8601", r.EpochTime(253430000000).ToISO8601(),
				"Year `10000` out of valid ISO 8601 range [0, 9999]."},
			{"constructors: after 10000", r.EpochTime(253440000000).Year(), "Error in time logic: Year is out of valid range: 1400..10000."},
			{"constructors: before 1400", r.EpochTime(-17990000000).Year(), "Error in time logic: Year is out of valid range: 1400..10000."},
			{"timezones: empty", r.Now().InTimezone(""), "Timezone `` does not start with `-` or `+`."},
			{"timezones: -00", r.Now().InTimezone("-00"), "`-00` is not a valid time offset."},
			{"timezones: -00:00", r.Now().InTimezone("-00:00"), "`-00:00` is not a valid time offset."},
			{"timezones: UTC+00", r.Now().InTimezone("UTC+00"), "Timezone `UTC+00` does not start with `-` or `+`."},
			{"timezones: minutes", r.Now().InTimezone("+00:60"), "Minutes out of range in `+00:60`."},
			{"timezones: hours", r.Now().InTimezone("+25:00"), "Hours out of range in `+25:00`."},
			{"timezones: time empty", r.Time(2013, 1, 1, ""), "Timezone `` does not start with `-` or `+`."},
			{"timezones: time -00", r.Time(2013, 1, 1, "-00"), "`-00` is not a valid time offset."},
			{"timezones: time minutes", r.Time(2013, 1, 1, "+00:60"), "Minutes out of range in `+00:60`."},
			{"timezones: time hours", r.Time(2013, 1, 1, "+25:00"), "Hours out of range in `+25:00`."},
			// pseudo_time.cc: sanitize::date, time and tz.
			{"two hyphens", r.ISO8601("2013-0101T13Z"), "Date string `2013-0101` must have 0 or 2 hyphens."},
			{"two colons", r.ISO8601("2013-01-01T13:0000Z"), "Time string `13:0000` must have 0 or 2 colons."},
			{"not a digit", r.ISO8601("2a13-01-01"), "Invalid date string `2a13-01-01` (got `a` but expected a digit)."},
			{"garbage after the date", r.ISO8601("2013-01-01.1T13Z"), "Garbage characters `.1` at end of date string `2013-01-01.1`."},
			{"garbage after the offset", r.Now().InTimezone("+07:00x"), "Garbage characters `x` at end of timezone string `+07:00x`."},
			{"too short", r.ISO8601("201301"),
				"Invalid time zone string `201301`. Valid time zones are `+hh:mm`, `-hh:mm`, `+hhmm`, `-hhmm`, `+hh`, `-hh` and `Z`."},
			{"week dates", r.ISO8601("2013-W01-1T13Z"), "Due to limitations in the boost time library we use for parsing, " +
				"we cannot support ISO week dates right now.  Sorry about that!  Please use years, calendar dates, or ordinal dates instead."},
			// make_time: Boost's calendar checks.
			{"month 13", r.Time(2013, 13, 1, "Z"), "Error in time logic: Month number is out of range 1..12."},
			{"day 32", r.Time(2013, 1, 32, "Z"), "Error in time logic: Day of month value is out of range 1..31."},
			{"february 30", r.Time(2013, 2, 30, "Z"), "Error in time logic: Day of month is not valid for year."},
			{"year 1399", r.Time(1399, 1, 1, "Z"), "Error in time logic: Year is out of valid range: 1400..10000."},
			// Boost's posix_time_zone takes offsets from -12:00 to +14:00
			// (local_time/posix_time_zone.hpp: calc_zone): in_timezone
			// keeps a larger one, no calendar term can use it.
			{"offset beyond +14:00", r.EpochTime(0).InTimezone("+14:30").Year(), "Error in time logic: Offset out of range: 14:30:00."},
			{"r.time with an offset beyond -12:00", r.Time(2013, 1, 1, "-13:00"), "Error in time logic: Offset out of range: -13:00:00."},
			{"year not an integer", r.Time(2013.5, 1, 1, "Z"), "Number not an integer: 2013.5"},
			// as_ptype(TIME), and sanitize_time on a time a client sends.
			{"not a time", r.Expr(5).Year(), "Not a TIME pseudotype: `5`."},
			{"bad sent offset", r.Expr(map[string]any{"$reql_type$": "TIME", "epoch_time": 1, "timezone": "+25:00"}),
				"Invalid time object constructed (invalid timezone string `\"+25:00\"`):"},
			{"sent time without epoch", r.Expr(map[string]any{"$reql_type$": "TIME", "timezone": "Z"}),
				"Invalid time object constructed (no field `epoch_time`):"},
			{"sent time with another field", r.Expr(map[string]any{"$reql_type$": "TIME", "epoch_time": 1, "timezone": "Z", "x": 1}),
				"Invalid time object constructed (unrecognized field `x`):"},
			{"during bound", t1.During(t1, t1.Add(1), r.DuringOpts{LeftBound: "half"}),
				"Expected `open` or `closed` for optarg `left_bound` (got `\"half\"`)."},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.q.Exec(s)
				var logic r.RQLQueryLogicError
				require.ErrorAs(t, err, &logic, "%s", tc.q)
				assert.Contains(t, err.Error(), "rethinkdb: "+tc.want)
			})
		}

		// A compile error: TIME takes 4 to 7 arguments (api.yaml).
		err := r.Time(2013, r.July, 29).Exec(s)
		var compile r.RQLCompileError
		require.ErrorAs(t, err, &compile)
		assert.Contains(t, err.Error(), "rethinkdb: Expected between 4 and 7 arguments but found 3.")
	})
}

// TestTimesCarryTheirZone: a time the driver sends keeps its offset in a
// table and comes back as a time.Time in that offset; an order by time
// compares instants, whatever their zones.
func TestTimesCarryTheirZone(t *testing.T) {
	eachServer(t, func(t *testing.T, s *r.Session, db string) {
		events := createTestTable(t, s, db, "events")
		kolkata := time.FixedZone("", 5*3600+30*60)
		newYork := time.FixedZone("", -5*3600)
		at := time.Date(2026, 3, 1, 9, 15, 30, 250e6, kolkata)
		_, err := events.Insert([]any{
			map[string]any{"id": "a", "at": at},
			map[string]any{"id": "b", "at": at.Add(-time.Minute).In(newYork)},
			map[string]any{"id": "c", "at": at.Add(time.Minute).UTC()},
		}).RunWrite(s)
		require.NoError(t, err)

		var got time.Time
		require.NoError(t, events.Get("a").Field("at").ReadOne(&got, s))
		assert.True(t, at.Equal(got), "%v", got)
		_, offset := got.Zone()
		assert.Equal(t, 5*3600+30*60, offset)
		assert.Equal(t, "+05:30", readValue(t, s, events.Get("a").Field("at").Timezone()))
		assert.Equal(t, "2026-03-01T09:15:30.250+05:30", readValue(t, s, events.Get("a").Field("at").ToISO8601()))
		assert.Equal(t, 22.0, readValue(t, s, events.Get("b").Field("at").Hours()), "New York's wall clock, the day before")

		assert.Equal(t, []any{"b", "a", "c"}, queryIDs(t, s, events.OrderBy("at")))
		assert.Equal(t, []any{"a"}, queryIDs(t, s, events.Filter(func(e r.Term) r.Term {
			return e.Field("at").Eq(r.Time(2026, 3, 1, 3, 45, 30.25, "Z"))
		})))
		assert.Equal(t, []any{"a", "c"}, queryIDs(t, s, events.Filter(func(e r.Term) r.Term {
			return e.Field("at").During(at, at.Add(time.Hour))
		}).OrderBy("id")))
	})
}
