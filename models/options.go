package models

import (
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// A board's options, set when it is created and fixed from then on.
const (
	// OrderDesc: a higher score is better (the default).
	OrderDesc = "desc"
	// OrderAsc: a lower score is better (lap times).
	OrderAsc = "asc"

	// OperatorIncr: a score write adds to the score (the default).
	OperatorIncr = "incr"
	// OperatorBest: a score write keeps the better of the old and the new
	// score, by the board's order.
	OperatorBest = "best"
	// OperatorSet: a score write replaces the score.
	OperatorSet = "set"
)

// Field names the options add to documents.
const (
	// rankScoreField is a player's sort key on an "asc" board: minus its
	// score, so that the rank index, read descending, puts the lowest
	// score first. Players of "desc" boards do not have it (the index
	// falls back to score).
	rankScoreField = "rank_score"
	// nextResetField is when a board with a reset schedule resets next, in
	// seconds since the epoch; boards without a schedule lack it.
	nextResetField = "next_reset_at"
	// nextResetIndex finds the boards whose reset is due.
	nextResetIndex = nextResetField
)

// resetAliases are the schedules a board may name instead of writing a cron
// expression.
var resetAliases = map[string]string{
	"daily":   "@daily",
	"weekly":  "@weekly",
	"monthly": "@monthly",
}

// ResetSchedule is a board's parsed reset schedule.
type ResetSchedule struct {
	sched cron.Schedule
	loc   *time.Location
}

// ParseReset parses a board's "reset" and "reset_tz": "daily", "weekly",
// "monthly" or a cron expression as cron.ParseStandard reads it (five
// fields, or a descriptor such as "@hourly" or "@every 10s"), in the time
// zone tz (an IANA name, default UTC).
func ParseReset(spec, tz string) (*ResetSchedule, error) {
	loc := time.UTC
	if tz != "" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil || tz == "Local" || strings.HasPrefix(tz, "/") {
			return nil, invalid("reset_tz must be an IANA time zone such as Europe/Oslo, got %q", tz)
		}
	}
	expr := spec
	if alias, ok := resetAliases[spec]; ok {
		expr = alias
	}
	if strings.Contains(expr, "TZ=") {
		return nil, invalid("reset must not name a time zone: give it in reset_tz")
	}
	if every, ok := strings.CutPrefix(expr, "@every "); ok {
		// cron rounds a shorter delay up to a second; say so instead.
		if d, err := time.ParseDuration(every); err == nil && d < time.Second {
			return nil, invalid("reset must be at most once a second")
		}
	}
	sched, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, invalid("reset must be daily, weekly, monthly or a cron expression (%v)", err)
	}
	if next := sched.Next(time.Now().In(loc)); next.IsZero() {
		return nil, invalid("reset %q never happens", spec)
	}
	return &ResetSchedule{sched: sched, loc: loc}, nil
}

// Next is the first reset strictly after t.
func (s *ResetSchedule) Next(t time.Time) time.Time {
	return s.sched.Next(t.In(s.loc)).UTC()
}

// checkOptions validates a new board's options and fills in the defaults.
func checkOptions(b *Board) error {
	switch b.Order {
	case "":
		b.Order = OrderDesc
	case OrderDesc, OrderAsc:
	default:
		return invalid("order must be %q or %q, got %q", OrderDesc, OrderAsc, b.Order)
	}
	switch b.Operator {
	case "":
		b.Operator = OperatorIncr
	case OperatorIncr, OperatorBest, OperatorSet:
	default:
		return invalid("operator must be %q, %q or %q, got %q", OperatorIncr, OperatorBest, OperatorSet, b.Operator)
	}
	if b.Reset == "" {
		if b.ResetTZ != "" {
			return invalid("reset_tz needs a reset schedule")
		}
		return nil
	}
	if _, err := ParseReset(b.Reset, b.ResetTZ); err != nil {
		return err
	}
	return nil
}

// epochSeconds is t as the database keeps times: seconds since the epoch,
// to the millisecond.
func epochSeconds(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}

// fromEpoch is the time of seconds since the epoch.
func fromEpoch(s float64) time.Time {
	return time.UnixMilli(int64(s*1000 + 0.5)).UTC()
}

// OrderOf is a board's order, with the default for boards made before
// boards had one.
func (b *Board) OrderOf() string {
	if b.Order == "" {
		return OrderDesc
	}
	return b.Order
}

// OperatorOf is a board's operator, with the default.
func (b *Board) OperatorOf() string {
	if b.Operator == "" {
		return OperatorIncr
	}
	return b.Operator
}

// NextReset is when the board resets next; zero without a schedule.
func (b *Board) NextReset() time.Time {
	if b.NextResetAt == 0 {
		return time.Time{}
	}
	return fromEpoch(b.NextResetAt)
}

// newBoardDoc is the document that creates board (validated options, the
// defaults filled in, the first reset time).
func (b *Boards) newBoardDoc(board *Board, name string) (map[string]any, error) {
	if err := checkOptions(board); err != nil {
		return nil, err
	}
	doc := map[string]any{
		"name":       name,
		"created_at": r.Now(),
		"top":        []any{},
		"seq":        0,
		"order":      board.Order,
		"operator":   board.Operator,
	}
	if board.Reset != "" {
		sched, err := ParseReset(board.Reset, board.ResetTZ)
		if err != nil {
			return nil, err
		}
		doc["reset"] = board.Reset
		if board.ResetTZ != "" {
			doc["reset_tz"] = board.ResetTZ
		}
		doc[nextResetField] = epochSeconds(sched.Next(b.st.opts.Now()))
		doc["period"] = 0
	}
	return doc, nil
}
