package grip

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/golang-jwt/jwt/v5"
)

// ErrNoSignature means the request carries no Grip-Sig header: it did not
// come through a GRIP proxy.
var ErrNoSignature = errors.New("grip: no Grip-Sig header")

// VerifyRequest reports whether r came through the GRIP proxy, i.e. carries a
// valid Grip-Sig. Only then may a handler answer with hold instructions: a
// client reaching the backend directly would otherwise get a response that
// never ends.
func (c Config) VerifyRequest(r *http.Request) bool {
	return c.VerifySignature(r.Header.Get("Grip-Sig")) == nil
}

// VerifySignature checks a Grip-Sig value: an HS256 JWT signed with the
// verify key, with an exp claim in the future and, when VerifyIss is set,
// that issuer. Any other algorithm, "none" included, is rejected.
func (c Config) VerifySignature(sig string) error {
	if sig == "" {
		return ErrNoSignature
	}
	key := c.VerifyKey
	if len(key) == 0 {
		key = c.Key
	}
	if len(key) == 0 {
		return errors.New("grip: no key configured to verify Grip-Sig")
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		// A token without exp would stay valid forever once leaked.
		jwt.WithExpirationRequired(),
	}
	if c.VerifyIss != "" {
		opts = append(opts, jwt.WithIssuer(c.VerifyIss))
	}
	_, err := jwt.Parse(sig, func(*jwt.Token) (any, error) { return key, nil }, opts...)
	if err != nil {
		return fmt.Errorf("grip: invalid Grip-Sig: %w", err)
	}
	return nil
}
