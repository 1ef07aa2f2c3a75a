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
	if strings.IndexFunc(name, isBidiControl) >= 0 {
		return "", invalid("%s name must not contain bidirectional override or isolate characters", what)
	}
	if strings.IndexFunc(name, isVisible) < 0 {
		return "", invalid("%s name must contain a visible character", what)
	}
	return name, nil
}

// isBidiControl: the embeddings, overrides and isolates (U+202A-U+202E,
// U+2066-U+2069) that reorder the text around a name where it is shown, as
// in "evil\u202Egnp.exe", which reads "evilexe.png". The plain marks
// (U+200E, U+200F, U+061C) only hint a direction and stay allowed.
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// invisible are the characters that show nothing on their own: format
// characters (zero-width space, word joiner, byte order mark, soft hyphen,
// tags), combining marks without a base, spaces, the default-ignorable
// letters (Hangul fillers) and variation selectors. A name needs at least
// one character outside them. Code points newer than Go's Unicode tables
// count as visible, so a new emoji is not refused.
var invisible = []*unicode.RangeTable{
	unicode.Cc, unicode.Cf, unicode.Mn, unicode.Me, unicode.Z, unicode.White_Space,
	unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector,
}

func isVisible(r rune) bool {
	return !unicode.In(r, invisible...) && r != '\u2800' // braille pattern blank
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
