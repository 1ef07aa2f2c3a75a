// Package grip speaks the parts of GRIP (Generic Realtime Intermediary
// Protocol) the service uses: it reads GRIP_URL, tells requests that really
// came through the proxy (Pushpin or Fanout Cloud) from direct ones, writes
// stream hold instructions and publishes to the proxy's control API.
package grip

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Config is a parsed GRIP_URL.
type Config struct {
	// ControlURL is the control API base, e.g. http://localhost:5561 or
	// https://api.fanout.io/realm/<realm>: no query, no trailing slash.
	ControlURL string
	// Key verifies Grip-Sig (unless VerifyKey is set) and signs the publish
	// token when Iss is set.
	Key []byte
	// Iss, when set, makes the publisher authenticate with a bearer JWT
	// carrying this issuer. Fanout Cloud needs it; Pushpin ignores it.
	Iss string
	// VerifyKey, when set, verifies Grip-Sig instead of Key, for proxies that
	// sign with a different key than the one that authenticates publishing.
	VerifyKey []byte
	// VerifyIss, when set, is the issuer Grip-Sig must carry (Pushpin's
	// sig_iss, "pushpin" by default). Empty accepts any issuer.
	VerifyIss string
}

// ParseURL parses a GRIP_URL such as
//
//	http://localhost:5561?key=changeme
//	https://api.fanout.io/realm/<realm>?iss=<realm>&key=base64:<key>
//
// Query parameters: key (required; "base64:" prefix for binary keys), iss,
// verify-key, verify-iss. Unknown parameters are rejected so that a typo does
// not silently turn signature checks off. Errors never echo the URL, which
// holds the key.
func ParseURL(s string) (Config, error) {
	if strings.TrimSpace(s) == "" {
		return Config{}, errors.New("grip: empty GRIP URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// url.Error repeats the whole URL, key included.
			err = ue.Err
		}
		return Config{}, fmt.Errorf("grip: invalid GRIP URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Config{}, fmt.Errorf("grip: GRIP URL scheme must be http or https, got %q", u.Scheme)
	}
	if u.Host == "" {
		return Config{}, errors.New("grip: GRIP URL has no host")
	}
	if u.User != nil {
		return Config{}, errors.New("grip: GRIP URL must not carry user info; give the key as ?key=")
	}
	if u.Fragment != "" {
		return Config{}, errors.New("grip: GRIP URL must not have a #fragment")
	}

	params, err := parseQuery(u.RawQuery)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Iss: params["iss"], VerifyIss: params["verify-iss"]}
	rawKey, ok := params["key"]
	if !ok {
		return Config{}, errors.New("grip: GRIP URL has no key parameter; it is needed to verify Grip-Sig")
	}
	if cfg.Key, err = decodeKey(rawKey); err != nil {
		return Config{}, fmt.Errorf("grip: GRIP URL key: %w", err)
	}
	if rawVerifyKey, ok := params["verify-key"]; ok {
		if cfg.VerifyKey, err = decodeKey(rawVerifyKey); err != nil {
			return Config{}, fmt.Errorf("grip: GRIP URL verify-key: %w", err)
		}
	}

	base := url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimRight(u.Path, "/")}
	cfg.ControlURL = base.String()
	return cfg, nil
}

var knownParams = map[string]bool{"key": true, "iss": true, "verify-key": true, "verify-iss": true}

// parseQuery decodes with PathUnescape rather than url.ParseQuery because
// the latter turns '+' into a space, which corrupts base64 keys pasted into
// GRIP_URL unescaped.
func parseQuery(raw string) (map[string]string, error) {
	params := map[string]string{}
	if raw == "" {
		return params, nil
	}
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.PathUnescape(k)
		if err != nil {
			return nil, fmt.Errorf("grip: GRIP URL query: %w", err)
		}
		if !knownParams[name] {
			return nil, fmt.Errorf("grip: GRIP URL has unknown parameter %q (known: key, iss, verify-key, verify-iss)", name)
		}
		if _, dup := params[name]; dup {
			return nil, fmt.Errorf("grip: GRIP URL repeats parameter %q", name)
		}
		val, err := url.PathUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("grip: GRIP URL parameter %q: %w", name, err)
		}
		params[name] = val
	}
	return params, nil
}

func decodeKey(s string) ([]byte, error) {
	if b64, ok := strings.CutPrefix(s, "base64:"); ok {
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("bad base64: %w", err)
		}
		if len(key) == 0 {
			return nil, errors.New("empty")
		}
		return key, nil
	}
	if s == "" {
		return nil, errors.New("empty")
	}
	return []byte(s), nil
}

// String leaves the keys out, so a Config can be logged.
func (c Config) String() string {
	return fmt.Sprintf("grip.Config{ControlURL: %q, Iss: %q, VerifyIss: %q, Key: %d bytes, VerifyKey: %d bytes}",
		c.ControlURL, c.Iss, c.VerifyIss, len(c.Key), len(c.VerifyKey))
}

// GoString keeps %#v from printing the keys too.
func (c Config) GoString() string { return c.String() }
