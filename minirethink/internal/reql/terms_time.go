package reql

import (
	"fmt"
	"math"
	"strings"
	"time"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// Times, as RethinkDB 2.4.4's src/rdb_protocol/terms/time.cc and
// pseudo_time.cc. A time is the pseudo-type {$reql_type$: "TIME",
// epoch_time, timezone}: the epoch in seconds rounded to the millisecond
// (sanitize_time) and a fixed offset "+HH:MM" / "-HH:MM" (never a zone name).
// Times compare by their epoch alone, whatever their time zones.
//
// RethinkDB computes the calendar with Boost.Date_Time 1.60 (the version
// mk/support/pkg/boost.sh bundles), and its quirks are kept: the calendar
// runs from the year 1400 to 10000 ("Error in time logic: Year is out of
// valid range: 1400..10000."), and a time is turned into Boost's
// microseconds as add_seconds_to_ptime does. Epochs beyond ±8e12 seconds,
// which overflow Boost's 64-bit microseconds (RethinkDB answers garbage
// there), are refused by name, and so are the ISO 8601 strings whose fields
// Boost's own parser would have to judge (a month 13, an hour 24, ...).

func timeTerms(reg termTable) {
	reg.add(ql2.Term_NOW, termDef{fn: nowTerm})
	reg.add(ql2.Term_EPOCH_TIME, termDef{fn: epochTimeTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_TO_EPOCH_TIME, termDef{fn: toEpochTimeTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_TIME, termDef{fn: timeTerm, minArgs: 4, maxArgs: 7})
	reg.add(ql2.Term_ISO8601, termDef{fn: iso8601Term, minArgs: 1, maxArgs: 1, opts: []string{"default_timezone"}})
	reg.add(ql2.Term_TO_ISO8601, termDef{fn: toISO8601Term, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_IN_TIMEZONE, termDef{fn: inTimezoneTerm, minArgs: 2, maxArgs: 2})
	reg.add(ql2.Term_TIMEZONE, termDef{fn: timezoneTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_DURING, termDef{fn: duringTerm, minArgs: 3, maxArgs: 3, opts: []string{"left_bound", "right_bound"}})
	reg.add(ql2.Term_DATE, termDef{fn: dateTerm, minArgs: 1, maxArgs: 1})
	reg.add(ql2.Term_TIME_OF_DAY, termDef{fn: timeOfDayTerm, minArgs: 1, maxArgs: 1})
	for tt, c := range map[ql2.Term_TermType]timeComponent{
		ql2.Term_YEAR: compYear, ql2.Term_MONTH: compMonth, ql2.Term_DAY: compDay,
		ql2.Term_DAY_OF_WEEK: compDayOfWeek, ql2.Term_DAY_OF_YEAR: compDayOfYear,
		ql2.Term_HOURS: compHours, ql2.Term_MINUTES: compMinutes, ql2.Term_SECONDS: compSeconds,
	} {
		reg.add(tt, termDef{fn: portionTerm(c), minArgs: 1, maxArgs: 1})
	}
	// r.monday ... r.sunday are 1 ... 7, r.january ... r.december 1 ... 12.
	for i := range 7 {
		reg.add(ql2.Term_MONDAY+ql2.Term_TermType(i), termDef{fn: constTerm(float64(i + 1))})
	}
	for i := range 12 {
		reg.add(ql2.Term_JANUARY+ql2.Term_TermType(i), termDef{fn: constTerm(float64(i + 1))})
	}
}

func constTerm(v any) func(*evalCtx, *Term) (any, error) {
	return func(*evalCtx, *Term) (any, error) { return v, nil }
}

const (
	utcOffset = "+00:00"
	// maxEpoch bounds the epochs whose calendar is computed: beyond it
	// Boost's microseconds overflow.
	maxEpoch = 8e12
	// Boost 1.60's greg_year range.
	minYear, maxYear = 1400, 10000
)

var errYearRange = ErrQueryLogic("Error in time logic: Year is out of valid range: 1400..10000.")

// newTime is pseudo::make_time followed by sanitize_time: the epoch rounded
// to the millisecond.
func newTime(epoch float64, tz string) (any, error) {
	e, err := finiteNumber(math.Round(epoch*1000) / 1000)
	if err != nil {
		return nil, err
	}
	return map[string]any{"$reql_type$": "TIME", "epoch_time": e, "timezone": tz}, nil
}

// makeTime is a time in UTC.
func makeTime(epoch float64) (any, error) { return newTime(epoch, utcOffset) }

// nowTerm is r.now(): one instant for the whole query, as RethinkDB rewrites
// r.now() to a constant before running it (which is also why a write
// function using it counts as deterministic).
func nowTerm(ec *evalCtx, t *Term) (any, error) {
	return makeTime(ec.now)
}

func epochTimeTerm(ec *evalCtx, t *Term) (any, error) {
	f, err := ec.number(t.Args[0])
	if err != nil {
		return nil, err
	}
	return makeTime(f)
}

func toEpochTimeTerm(ec *evalCtx, t *Term) (any, error) {
	d, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	return timeEpoch(d)
}

// timeEpoch reads a TIME's epoch_time as as_ptype(TIME) then get_field do:
// any pseudo-type passes the first check.
func timeEpoch(d any) (any, error) {
	o, isObj := d.(map[string]any)
	_, isPtype := o["$reql_type$"]
	switch {
	case !isObj || !isPtype:
		return nil, ErrQueryLogic("Not a TIME pseudotype: `%s`.", truncPrint(d))
	case rank(o) == rankBinary:
		return nil, expected("OBJECT", d)
	}
	e, ok := o["epoch_time"]
	if !ok {
		return nil, ErrNonExistence("No attribute `epoch_time` in object:\n%s", Print(d))
	}
	return e, nil
}

// reqlTime is a TIME as the calendar terms read it (time_to_boost).
type reqlTime struct {
	epoch  float64
	tz     string // sanitized
	offset int64  // seconds east of UTC
	micros int64  // since the epoch, as Boost's ptime holds it
}

// timeArg evaluates t as val_t::as_ptype("TIME") and reads it. A time
// whose epoch is too large for Boost is refused by the term's name.
func (ec *evalCtx) timeArg(t *Term, term string) (reqlTime, error) {
	d, err := ec.strictDatum(t)
	if err != nil {
		return reqlTime{}, err
	}
	return readTime(d, term)
}

// asTime is as_ptype("TIME"): RethinkDB lets any pseudo-type through
// (and then fails a sanity check on one that is no time), which is refused
// here by name.
func asTime(d any, term string) (map[string]any, error) {
	o, isObj := d.(map[string]any)
	if _, isPtype := o["$reql_type$"]; !isObj || !isPtype {
		return nil, ErrQueryLogic("Not a TIME pseudotype: `%s`.", truncPrint(d))
	}
	if rank(o) != rankTime {
		return nil, ErrUnsupported(fmt.Sprintf("`%s` of a %s", term, TypeName(o)))
	}
	return o, nil
}

func readTime(d any, term string) (reqlTime, error) {
	o, err := asTime(d, term)
	if err != nil {
		return reqlTime{}, err
	}
	epoch, _ := o["epoch_time"].(float64)
	rawTZ, _ := o["timezone"].(string)
	tz, err := sanitizeTZ(rawTZ)
	if err != nil {
		return reqlTime{}, err
	}
	rt := reqlTime{epoch: epoch, tz: tz, offset: tzOffset(tz)}
	if err := checkOffset(rt.offset); err != nil {
		return rt, err
	}
	if math.Abs(epoch) > maxEpoch {
		return rt, ErrUnsupported(fmt.Sprintf("`%s` of a time more than %g seconds from 1970", term, maxEpoch))
	}
	rt.micros = boostMicros(epoch)
	return rt, nil
}

// checkOffset is Boost's posix_time_zone check, which every calendar
// computation meets (time_to_boost, make_time): an offset within -12:00
// and +14:00. RethinkDB's own check lets "+25" and "+23:59" through, and
// in_timezone and timezone take them, but nothing can compute with them.
func checkOffset(offset int64) error {
	if offset >= -12*3600 && offset <= 14*3600 {
		return nil
	}
	sign := ""
	if offset < 0 {
		sign, offset = "-", -offset
	}
	// posix_time::to_simple_string of the offset.
	return ErrQueryLogic("Error in time logic: Offset out of range: %s%02d:%02d:00.", sign, offset/3600, offset%3600/60)
}

// boostMicros is add_seconds_to_ptime (reql_version 2.4): whole seconds,
// then the rest in microseconds rounded half away from zero.
func boostMicros(raw float64) int64 {
	sec := int64(raw)
	sign := 1.0
	if raw < 0 {
		sign = -1
	}
	micro := int64(raw*1000000.0 - float64(sec)*1000000.0 + sign*0.5)
	return sec*1000000 + micro
}

// local is the time's wall clock in its own offset (Boost's local_time).
func (rt reqlTime) local() time.Time {
	return time.UnixMicro(rt.micros + rt.offset*1000000).UTC()
}

// checkYear is greg_year's check, which every conversion to a date makes.
func checkYear(t time.Time) error {
	if y := t.Year(); y < minYear || y > maxYear {
		return errYearRange
	}
	return nil
}

// localMidnight is boost_date: the start of the time's local day, in
// microseconds since the epoch (UTC).
func (rt reqlTime) localMidnight() (int64, error) {
	l := rt.local()
	if err := checkYear(l); err != nil {
		return 0, err
	}
	day := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	return day.UnixMicro() - rt.offset*1000000, nil
}

type timeComponent int

const (
	compYear timeComponent = iota
	compMonth
	compDay
	compDayOfWeek
	compDayOfYear
	compHours
	compMinutes
	compSeconds
)

var componentNames = [...]string{"year", "month", "day", "day_of_week", "day_of_year", "hours", "minutes", "seconds"}

// portionTerm is time_portion: a part of the time's local wall clock.
func portionTerm(c timeComponent) func(*evalCtx, *Term) (any, error) {
	return func(ec *evalCtx, t *Term) (any, error) {
		rt, err := ec.timeArg(t.Args[0], componentNames[c])
		if err != nil {
			return nil, err
		}
		l := rt.local()
		switch c {
		case compHours:
			return float64(l.Hour()), nil
		case compMinutes:
			return float64(l.Minute()), nil
		case compSeconds:
			// Boost's whole seconds plus the epoch's fraction (C's modf:
			// negative before 1970, as RethinkDB does it).
			_, frac := math.Modf(rt.epoch)
			return float64(l.Second()) + math.Round(frac*1000)/1000, nil
		}
		if err := checkYear(l); err != nil {
			return nil, err
		}
		switch c {
		case compYear:
			return float64(l.Year()), nil
		case compMonth:
			return float64(l.Month()), nil
		case compDay:
			return float64(l.Day()), nil
		case compDayOfWeek: // ISO 8601: Monday is 1, Sunday 7
			if l.Weekday() == time.Sunday {
				return 7.0, nil
			}
			return float64(l.Weekday()), nil
		default:
			return float64(l.YearDay()), nil
		}
	}
}

// dateTerm is time_date: local midnight of the same day, same time zone.
func dateTerm(ec *evalCtx, t *Term) (any, error) {
	rt, err := ec.timeArg(t.Args[0], "date")
	if err != nil {
		return nil, err
	}
	mid, err := rt.localMidnight()
	if err != nil {
		return nil, err
	}
	return newTime(float64(mid)/1000000, rt.tz)
}

// timeOfDayTerm is time_of_day: seconds since local midnight, to the
// millisecond.
func timeOfDayTerm(ec *evalCtx, t *Term) (any, error) {
	rt, err := ec.timeArg(t.Args[0], "time_of_day")
	if err != nil {
		return nil, err
	}
	mid, err := rt.localMidnight()
	if err != nil {
		return nil, err
	}
	sec := float64(rt.micros-mid) / 1000000
	return math.Round(sec*1000) / 1000, nil
}

// timezoneTerm is time_tz: the timezone field as it is.
func timezoneTerm(ec *evalCtx, t *Term) (any, error) {
	d, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	o, err := asTime(d, "timezone")
	if err != nil {
		return nil, err
	}
	tz, ok := o["timezone"]
	if !ok {
		return nil, nil
	}
	return tz, nil
}

// inTimezoneTerm is time_in_tz: the same instant with another offset.
func inTimezoneTerm(ec *evalCtx, t *Term) (any, error) {
	d, err := ec.strictDatum(t.Args[0])
	if err != nil {
		return nil, err
	}
	o, err := asTime(d, "in_timezone")
	if err != nil {
		return nil, err
	}
	tzd, err := ec.strictDatum(t.Args[1])
	if err != nil {
		return nil, err
	}
	raw, err := datumString(tzd)
	if err != nil {
		return nil, err
	}
	tz, err := sanitizeTZ(raw)
	if err != nil {
		return nil, err
	}
	out := copyObject(o, 0)
	out["timezone"] = tz
	return out, nil
}

// duringTerm: left_bound <= t < right_bound by default; each bound option
// is read only when the time is on that bound, as RethinkDB reads it.
func duringTerm(ec *evalCtx, t *Term) (any, error) {
	var ts [3]any
	for i := range ts {
		d, err := ec.strictDatum(t.Args[i])
		if err != nil {
			return nil, err
		}
		if _, err := asTime(d, "during"); err != nil {
			return nil, err
		}
		ts[i] = d
	}
	lcmp := Compare(ts[1], ts[0])
	rcmp := Compare(ts[0], ts[2])
	if lcmp > 0 {
		return false, nil
	}
	if lcmp == 0 {
		open, err := ec.boundIsOpen(t, "left_bound", false)
		if err != nil || open {
			return false, err
		}
	}
	if rcmp > 0 {
		return false, nil
	}
	if rcmp == 0 {
		open, err := ec.boundIsOpen(t, "right_bound", true)
		if err != nil || open {
			return false, err
		}
	}
	return true, nil
}

// toISO8601Term is time_to_iso8601: "2013-07-30T20:56:05.123-07:00", the
// fraction only when there is one, cut (not rounded) to milliseconds.
func toISO8601Term(ec *evalCtx, t *Term) (any, error) {
	rt, err := ec.timeArg(t.Args[0], "to_iso8601")
	if err != nil {
		return nil, err
	}
	utc := time.UnixMicro(rt.micros).UTC()
	if err := checkYear(utc); err != nil {
		return nil, err
	}
	if utc.Year() > 9999 {
		return nil, ErrQueryLogic("Year `%d` out of valid ISO 8601 range [0, 9999].", utc.Year())
	}
	l := rt.local()
	if err := checkYear(l); err != nil {
		return nil, err
	}
	s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", l.Year(), int(l.Month()), l.Day(), l.Hour(), l.Minute(), l.Second())
	if us := l.Nanosecond() / 1000; us != 0 {
		s += fmt.Sprintf(".%06d", us)[:4]
	}
	return s + rt.tz, nil
}

// timeTerm is r.time(year, month, day[, hours, minutes, seconds], tz), as
// pseudo::make_time builds it with Boost.
func timeTerm(ec *evalCtx, t *Term) (any, error) {
	n := len(t.Args)
	if n != 4 && n != 7 {
		return nil, ErrQueryLogic("Got %d arguments to TIME (expected 4 or 7).", n)
	}
	var ymd [3]int64
	for i := range ymd {
		v, err := ec.int32Arg(t.Args[i])
		if err != nil {
			return nil, err
		}
		ymd[i] = v
	}
	var hours, minutes int64
	var seconds float64
	tzTerm := t.Args[3]
	if n == 7 {
		var err error
		if hours, err = ec.int32Arg(t.Args[3]); err != nil {
			return nil, err
		}
		if minutes, err = ec.int32Arg(t.Args[4]); err != nil {
			return nil, err
		}
		if seconds, err = ec.number(t.Args[5]); err != nil {
			return nil, err
		}
		tzTerm = t.Args[6]
	}
	rawTZ, err := ec.str(tzTerm)
	if err != nil {
		return nil, err
	}
	// greg_year, greg_month and greg_day take unsigned shorts: the ints
	// wrap, then are checked (day, month, year: GCC builds the arguments
	// right to left).
	y, m, d := int(uint16(ymd[0])), int(uint16(ymd[1])), int(uint16(ymd[2]))
	switch {
	case d < 1 || d > 31:
		return nil, ErrQueryLogic("Error in time logic: Day of month value is out of range 1..31.")
	case m < 1 || m > 12:
		return nil, ErrQueryLogic("Error in time logic: Month number is out of range 1..12.")
	case y < minYear || y > maxYear:
		return nil, errYearRange
	case d > daysIn(y, time.Month(m)):
		return nil, ErrQueryLogic("Error in time logic: Day of month is not valid for year.")
	}
	if float64(abs64(hours))*3600+float64(abs64(minutes))*60+math.Abs(seconds) > maxEpoch {
		return nil, ErrUnsupported(fmt.Sprintf("`time` with more than %g seconds in its hours, minutes and seconds", maxEpoch))
	}
	tz, err := sanitizeTZ(rawTZ)
	if err != nil {
		return nil, err
	}
	if err := checkOffset(tzOffset(tz)); err != nil {
		return nil, err
	}
	// time_duration(hours, minutes, 0): with any part negative, Boost
	// negates the sum of their absolute values.
	dur := hours*3600 + minutes*60
	if hours < 0 || minutes < 0 {
		dur = -(abs64(hours)*3600 + abs64(minutes)*60)
	}
	local := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).UnixMicro() + dur*1000000 + boostMicros(seconds)
	utc := local - tzOffset(tz)*1000000
	return newTime(float64(utc)/1000000, tz)
}

func abs64(i int64) int64 {
	if i < 0 {
		return -i
	}
	return i
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// int32Arg is val_t::as_int<int>.
func (ec *evalCtx) int32Arg(t *Term) (int64, error) {
	f, err := ec.number(t)
	if err != nil {
		return 0, err
	}
	i, err := checkedInt(f)
	if err != nil {
		return 0, err
	}
	if i < math.MinInt32 || i > math.MaxInt32 {
		return 0, ErrQueryLogic("Integer too large: %d", i)
	}
	return i, nil
}

// iso8601Term is iso8601_to_time: the string is first checked and put in
// one canonical form by RethinkDB's own sanitizer (whose messages are
// reproduced), then read.
func iso8601Term(ec *evalCtx, t *Term) (any, error) {
	v, err := ec.eval(t.Args[0])
	if err != nil {
		return nil, err
	}
	defaultTZ, err := ec.optString(t, "default_timezone", "")
	if err != nil {
		return nil, err
	}
	d, err := asDatum(v)
	if err != nil {
		return nil, err
	}
	s, err := datumString(d)
	if err != nil {
		return nil, err
	}
	return parseISO8601(s, defaultTZ)
}

type dateFormat int

const (
	monthDay dateFormat = iota + 1
	weekCount
	dayCount
)

// isoScanner is the state of RethinkDB's sanitize functions: the string,
// the position and the canonical form being built.
type isoScanner struct {
	s   string
	at  int
	out strings.Builder
}

// digits is mandatory_digits: n digits, copied unless skip.
func (sc *isoScanner) digits(n int) error {
	for range n {
		if sc.at >= len(sc.s) {
			return ErrQueryLogic("Invalid time zone string `%s`. Valid time zones are `+hh:mm`, `-hh:mm`, `+hhmm`, `-hhmm`, `+hh`, `-hh` and `Z`.", sc.s)
		}
		c := sc.s[sc.at]
		sc.at++
		if c < '0' || c > '9' {
			return ErrQueryLogic("Invalid date string `%s` (got `%c` but expected a digit).", sc.s, c)
		}
		sc.out.WriteByte(c)
	}
	return nil
}

// optional is optional_char: consume c if it is next; write it anyway
// when include.
func (sc *isoScanner) optional(c byte, include bool) bool {
	if sc.at < len(sc.s) && sc.s[sc.at] == c {
		sc.at++
		sc.out.WriteByte(c)
		return true
	}
	if include {
		sc.out.WriteByte(c)
	}
	return false
}

func (sc *isoScanner) end() bool { return sc.at == len(sc.s) }

// sanitizeDate is sanitize::date.
func sanitizeDate(s string) (string, dateFormat, error) {
	sc := &isoScanner{s: s}
	if err := sc.digits(4); err != nil {
		return "", 0, err
	}
	if sc.end() {
		return sc.out.String() + "-01-01", monthDay, nil
	}
	firstHyphen := sc.optional('-', true)
	var df dateFormat
	switch {
	case sc.optional('W', false):
		df = weekCount
		if err := sc.digits(2); err != nil {
			return "", 0, err
		}
		if sc.end() {
			return sc.out.String() + "-1", df, nil
		}
		sc.optional('-', true)
		if err := sc.digits(1); err != nil {
			return "", 0, err
		}
	case len(s)-sc.at == 3:
		df = dayCount
		if err := sc.digits(3); err != nil {
			return "", 0, err
		}
	default:
		df = monthDay
		if err := sc.digits(2); err != nil {
			return "", 0, err
		}
		if firstHyphen && sc.end() {
			return sc.out.String() + "-01", df, nil
		}
		if secondHyphen := sc.optional('-', true); firstHyphen != secondHyphen {
			return "", 0, ErrQueryLogic("Date string `%s` must have 0 or 2 hyphens.", s)
		}
		if err := sc.digits(2); err != nil {
			return "", 0, err
		}
	}
	if !sc.end() {
		return "", 0, ErrQueryLogic("Garbage characters `%s` at end of date string `%s`.", s[sc.at:], s)
	}
	return sc.out.String(), df, nil
}

// sanitizeTime is sanitize::time (reql_version 2.4: every fractional
// digit kept).
func sanitizeTime(s string) (string, error) {
	sc := &isoScanner{s: s}
	if err := sc.digits(2); err != nil {
		return "", err
	}
	if sc.end() {
		return sc.out.String() + ":00:00.000", nil
	}
	firstColon := sc.optional(':', true)
	if err := sc.digits(2); err != nil {
		return "", err
	}
	if sc.end() {
		return sc.out.String() + ":00.000", nil
	}
	if secondColon := sc.optional(':', true); firstColon != secondColon {
		return "", ErrQueryLogic("Time string `%s` must have 0 or 2 colons.", s)
	}
	if err := sc.digits(2); err != nil {
		return "", err
	}
	if sc.optional('.', true) {
		for !sc.end() {
			if err := sc.digits(1); err != nil {
				return "", err
			}
		}
	} else {
		sc.out.WriteString("000")
	}
	if !sc.end() {
		return "", ErrQueryLogic("Garbage characters `%s` at end of time string `%s`.", s[sc.at:], s)
	}
	return sc.out.String(), nil
}

// sanitizeTZ is sanitize::tz: "Z", "±hh", "±hhmm", "±hh:mm" to "±hh:mm".
func sanitizeTZ(s string) (string, error) {
	if s == "-00" || s == "-00:00" {
		return "", ErrQueryLogic("`%s` is not a valid time offset.", s)
	}
	if s == "Z" {
		return utcOffset, nil
	}
	sc := &isoScanner{s: s}
	if !sc.optional('-', false) && !sc.optional('+', false) {
		return "", ErrQueryLogic("Timezone `%s` does not start with `-` or `+`.", s)
	}
	if err := sc.digits(2); err != nil {
		return "", err
	}
	if sc.end() {
		return sc.out.String() + ":00", nil
	}
	sc.optional(':', true)
	if err := sc.digits(2); err != nil {
		return "", err
	}
	if !sc.end() {
		return "", ErrQueryLogic("Garbage characters `%s` at end of timezone string `%s`.", s[sc.at:], s)
	}
	out := sc.out.String()
	if h := out[1:3]; !(h[0] <= '1' || (h[0] == '2' && h[1] <= '4')) {
		return "", ErrQueryLogic("Hours out of range in `%s`.", s)
	}
	if out[4] > '5' {
		return "", ErrQueryLogic("Minutes out of range in `%s`.", s)
	}
	return out, nil
}

// tzOffset is a sanitized offset in seconds east of UTC.
func tzOffset(tz string) int64 {
	if len(tz) != 6 {
		return 0
	}
	h := int64(tz[1]-'0')*10 + int64(tz[2]-'0')
	m := int64(tz[4]-'0')*10 + int64(tz[5]-'0')
	off := h*3600 + m*60
	if tz[0] == '-' {
		off = -off
	}
	return off
}

// parseISO8601 is iso8601_to_time: sanitize::iso8601, then the reading
// Boost does of the canonical form.
func parseISO8601(s, defaultTZ string) (any, error) {
	tloc := strings.IndexByte(s, 'T')
	datePart := s
	if tloc >= 0 {
		datePart = s[:tloc]
	}
	date, df, err := sanitizeDate(datePart)
	if err != nil {
		return nil, err
	}
	clock := "00:00:00.000"
	tzPart, hasTZ := "", false
	if tloc >= 0 {
		start := tloc + 1
		sign := -1
		for _, c := range []string{"-", "+", "Z"} {
			if i := strings.Index(s[start:], c); i >= 0 {
				sign = start + i
				break
			}
		}
		timePart := s[start:]
		if sign >= 0 {
			timePart = s[start:sign]
			tzPart, hasTZ = s[sign:], true
		}
		if clock, err = sanitizeTime(timePart); err != nil {
			return nil, err
		}
	}
	tz := ""
	if hasTZ {
		if tz, err = sanitizeTZ(tzPart); err != nil {
			return nil, err
		}
	}
	if df == weekCount {
		return nil, ErrQueryLogic("Due to limitations in the boost time library we use for parsing, we cannot support ISO week dates right now.  Sorry about that!  Please use years, calendar dates, or ordinal dates instead.")
	}
	// The canonical form: YYYY-MM-DD or YYYY-DDD, then hh:mm:ss.fff...
	outOfRange := ErrUnsupported(fmt.Sprintf("`iso8601` of %q (a field out of range, which Boost's parser judges)", s))
	year := atoi(date[0:4])
	var day time.Time
	if df == dayCount {
		yday := atoi(date[5:8])
		if year < minYear || yday < 1 || yday > time.Date(year, 12, 31, 0, 0, 0, 0, time.UTC).YearDay() {
			return nil, outOfRange
		}
		day = time.Date(year, 1, yday, 0, 0, 0, 0, time.UTC)
	} else {
		month, mday := atoi(date[5:7]), atoi(date[8:10])
		if year < minYear || month < 1 || month > 12 || mday < 1 || mday > daysIn(year, time.Month(month)) {
			return nil, outOfRange
		}
		day = time.Date(year, time.Month(month), mday, 0, 0, 0, 0, time.UTC)
	}
	hh, mm, ss := atoi(clock[0:2]), atoi(clock[3:5]), atoi(clock[6:8])
	if hh > 23 || mm > 59 || ss > 59 {
		return nil, outOfRange
	}
	if !hasTZ {
		switch {
		case defaultTZ == "":
			return nil, ErrQueryLogic("ISO 8601 string has no time zone, and no default time zone was provided.")
		case defaultTZ == "Z":
			tz = utcOffset
		case len(defaultTZ) == 3 || (len(defaultTZ) == 6 && defaultTZ[3] == ':'):
			if tz, err = sanitizeTZ(defaultTZ); err != nil {
				return nil, ErrUnsupported(fmt.Sprintf("`iso8601` with the `default_timezone` %q", defaultTZ))
			}
		default:
			// Boost's POSIX time zone parser reads the default as it is;
			// only the forms it reads as ISO 8601 does are taken.
			return nil, ErrUnsupported(fmt.Sprintf("`iso8601` with the `default_timezone` %q", defaultTZ))
		}
	}
	if checkOffset(tzOffset(tz)) != nil {
		// Boost's parser meets the offset's range check; what it makes of
		// it is not reproduced.
		return nil, ErrUnsupported(fmt.Sprintf("`iso8601` with the offset %q", tz))
	}
	// Boost keeps six fractional digits and drops the rest.
	frac := (clock[9:] + "000000")[:6]
	local := day.UnixMicro() + int64(hh*3600+mm*60+ss)*1000000 + int64(atoi(frac))
	utc := local - tzOffset(tz)*1000000
	return newTime(float64(utc)/1000000, tz)
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// sanitizeTimeObject is what RethinkDB does to every TIME object built from a
// query or a term (pseudo::sanitize_time): the fields are checked in key
// order, the epoch rounded to the millisecond and the timezone put in its
// canonical form as they are met, so an error shows the object as far as
// it was sanitized.
func sanitizeTimeObject(o map[string]any) (map[string]any, error) {
	out, copied := o, false
	replace := func(k string, v any) {
		if out[k] == v {
			return
		}
		if !copied {
			out, copied = copyObject(o, 0), true
		}
		out[k] = v
	}
	msg := ""
	hasEpoch, hasTZ := false, false
fields:
	for _, k := range sortedKeys(o) {
		v := o[k]
		switch k {
		case "$reql_type$":
		case "epoch_time":
			f, ok := v.(float64)
			if !ok {
				msg = fmt.Sprintf("field `epoch_time` must be a number (got `%s` of type %s)", truncPrint(v), TypeName(v))
				break fields
			}
			e, err := finiteNumber(math.Round(f*1000) / 1000)
			if err != nil {
				return nil, err
			}
			hasEpoch = true
			replace(k, e)
		case "timezone":
			s, ok := v.(string)
			if !ok {
				msg = fmt.Sprintf("field `timezone` must be a string (got `%s` of type %s)", truncPrint(v), TypeName(v))
				break fields
			}
			norm, err := sanitizeTZ(s)
			if err != nil {
				msg = fmt.Sprintf("invalid timezone string `%s`", truncPrint(v))
				break fields
			}
			hasTZ = true
			replace(k, norm)
		default:
			msg = fmt.Sprintf("unrecognized field `%s`", k)
			break fields
		}
	}
	switch {
	case msg == "" && !hasEpoch:
		msg = "no field `epoch_time`"
	case msg == "" && !hasTZ:
		msg = "no field `timezone`"
	}
	if msg != "" {
		return nil, ErrQueryLogic("Invalid time object constructed (%s):\n%s", msg, truncPrint(out))
	}
	return out, nil
}
