package grip_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/grip"
)

func sign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return s
}

func TestVerifySignature(t *testing.T) {
	key := []byte("changeme")
	future := time.Now().Add(time.Hour).Unix()
	past := time.Now().Add(-time.Minute).Unix()
	valid := jwt.MapClaims{"iss": "pushpin", "exp": future}

	tests := []struct {
		name string
		cfg  grip.Config
		sig  string
		ok   bool
	}{
		{name: "valid", cfg: grip.Config{Key: key}, sig: sign(t, jwt.SigningMethodHS256, key, valid), ok: true},
		{name: "valid with issuer check", cfg: grip.Config{Key: key, VerifyIss: "pushpin"}, sig: sign(t, jwt.SigningMethodHS256, key, valid), ok: true},
		{name: "verify key preferred", cfg: grip.Config{Key: []byte("publish"), VerifyKey: key}, sig: sign(t, jwt.SigningMethodHS256, key, valid), ok: true},
		{name: "missing", cfg: grip.Config{Key: key}, sig: ""},
		{name: "garbage", cfg: grip.Config{Key: key}, sig: "not.a.jwt"},
		{name: "wrong key", cfg: grip.Config{Key: key}, sig: sign(t, jwt.SigningMethodHS256, []byte("other"), valid)},
		{name: "expired", cfg: grip.Config{Key: key}, sig: sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "pushpin", "exp": past})},
		{name: "no exp", cfg: grip.Config{Key: key}, sig: sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "pushpin"})},
		{name: "alg none", cfg: grip.Config{Key: key}, sig: sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, valid)},
		{name: "HS512 with right key", cfg: grip.Config{Key: key}, sig: sign(t, jwt.SigningMethodHS512, key, valid)},
		{name: "wrong issuer", cfg: grip.Config{Key: key, VerifyIss: "pushpin"}, sig: sign(t, jwt.SigningMethodHS256, key, jwt.MapClaims{"iss": "evil", "exp": future})},
		{name: "no key configured", cfg: grip.Config{}, sig: sign(t, jwt.SigningMethodHS256, key, valid)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.VerifySignature(tt.sig)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}

			r := httptest.NewRequest("GET", "/boards/1/stream", nil)
			if tt.sig != "" {
				r.Header.Set("Grip-Sig", tt.sig)
			}
			assert.Equal(t, tt.ok, tt.cfg.VerifyRequest(r))
		})
	}
}

func TestVerifySignatureMissingIsErrNoSignature(t *testing.T) {
	assert.ErrorIs(t, grip.Config{Key: []byte("k")}.VerifySignature(""), grip.ErrNoSignature)
}
