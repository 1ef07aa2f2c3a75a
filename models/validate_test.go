package models

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCleanName(t *testing.T) {
	const (
		invisible = "board name must contain a visible character"
		bidi      = "board name must not contain bidirectional override or isolate characters"
	)
	tests := []struct {
		name, in, want, err string
	}{
		{"plain", "Finals", "Finals", ""},
		{"trimmed", "  Finals\t", "Finals", ""},
		{"accented", "Café", "Café", ""},
		{"combining accent on a letter", "Cafe\u0301", "Cafe\u0301", ""},
		{"emoji with variation selector", "\u2764\ufe0f", "\u2764\ufe0f", ""},
		{"emoji ZWJ sequence", "\U0001F469\u200D\U0001F4BB", "\U0001F469\u200D\U0001F4BB", ""},
		{"Hangul", "\ud55c\uae00", "\ud55c\uae00", ""},
		{"Arabic", "\u0645\u0631\u062d\u0628\u0627", "\u0645\u0631\u062d\u0628\u0627", ""},
		{"zero-width space between letters", "a\u200bb", "a\u200bb", ""},
		{"right-to-left mark beside letters", "\u05d0\u200f1", "\u05d0\u200f1", ""},
		{"empty", "", "", "board name must not be empty"},
		{"spaces", "   ", "", "board name must not be empty"},
		{"ideographic space", "\u3000", "", "board name must not be empty"},
		{"zero-width space", "\u200b", "", invisible},
		{"zero-width spaces", "\u200b\u200b\u200b", "", invisible},
		{"word joiner", "\u2060", "", invisible},
		{"byte order mark", "\ufeff", "", invisible},
		{"soft hyphen", "\u00ad", "", invisible},
		{"Mongolian vowel separator", "\u180e", "", invisible},
		{"combining mark alone", "\u0301", "", invisible},
		{"combining marks alone", "\u0301\u0302\u0303", "", invisible},
		{"enclosing mark alone", "\u20dd", "", invisible},
		{"combining grapheme joiner", "\u034f", "", invisible},
		{"variation selector alone", "\ufe0f", "", invisible},
		{"Hangul choseong filler", "\u115f", "", invisible},
		{"Hangul jungseong filler", "\u1160", "", invisible},
		{"Hangul filler", "\u3164", "", invisible},
		{"halfwidth Hangul filler", "\uffa0", "", invisible},
		{"braille blank", "\u2800", "", invisible},
		{"tag characters", "\U000E0041\U000E0042", "", invisible},
		{"mixed invisibles", " \u200b\u3164\u0301\ufeff ", "", invisible},
		{"left-to-right embedding", "a\u202ab", "", bidi},
		{"right-to-left embedding", "a\u202bb", "", bidi},
		{"pop directional formatting", "a\u202cb", "", bidi},
		{"left-to-right override", "a\u202db", "", bidi},
		{"right-to-left override", "evil\u202egnp.exe", "", bidi},
		{"left-to-right isolate", "a\u2066b", "", bidi},
		{"right-to-left isolate", "a\u2067b", "", bidi},
		{"first strong isolate", "a\u2068b", "", bidi},
		{"pop directional isolate", "a\u2069b", "", bidi},
		{"override alone", "\u202e", "", bidi},
		{"control character", "a\u0007b", "", "board name must not contain control characters"},
		{"too long", strings.Repeat("é", 101), "", "board name must be at most 100 characters (got 101)"},
		{"invalid UTF-8", "a\xffb", "", "board name must be valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cleanName("board", tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Equal(t, tt.err, err.Error())
				assert.True(t, errors.Is(err, ErrInvalid))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
