package models

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what callers may store.
const (
	// MaxNameLen is the longest board or player name, in characters.
	MaxNameLen = 100
	// MaxAmount bounds one score change.
	MaxAmount = 1_000_000_000
	// MaxScore bounds a score: beyond 2^53 RethinkDB's float64 numbers stop
	// being exact integers, and adding 1 would silently do nothing.
	MaxScore = 1 << 53
)

// cleanName validates a name and trims surrounding white space.
func cleanName(what, name string) (string, error) {
	if !utf8.ValidString(name) {
		return "", invalid("%s name must be valid UTF-8", what)
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return "", invalid("%s name must not be empty", what)
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLen {
		return "", invalid("%s name must be at most %d characters (got %d)", what, MaxNameLen, n)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return "", invalid("%s name must not contain control characters", what)
	}
	return name, nil
}

func checkAmount(amount int64) error {
	if amount > MaxAmount || amount < -MaxAmount {
		return invalid("amount must be between %d and %d", -MaxAmount, MaxAmount)
	}
	return nil
}

func checkScore(score int64) error {
	if score > MaxScore || score < -MaxScore {
		return invalid("score must be between -2^53 and 2^53")
	}
	return nil
}

// validID: ids arrive in URLs; RethinkDB primary keys are at most 127 bytes.
func validID(id string) bool {
	return id != "" && len(id) <= 127 && utf8.ValidString(id)
}
