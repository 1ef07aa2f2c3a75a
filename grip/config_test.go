package grip_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/leaderboardhq/leaderboard/grip"
)

func TestParseURL(t *testing.T) {
	// "a+b/c==" style keys are the reason ParseURL does not use url.ParseQuery.
	binKey := []byte{0xfb, 0xef, 0xff, 0x00, 0x01}
	tests := []struct {
		name    string
		in      string
		want    grip.Config
		wantErr string
	}{
		{
			name: "pushpin plain key",
			in:   "http://localhost:5561?key=changeme",
			want: grip.Config{ControlURL: "http://localhost:5561", Key: []byte("changeme")},
		},
		{
			name: "fanout cloud base64 key with + and /",
			in:   "https://api.fanout.io/realm/abc123?iss=abc123&key=base64:++//AAE=",
			want: grip.Config{ControlURL: "https://api.fanout.io/realm/abc123", Key: binKey, Iss: "abc123"},
		},
		{
			name: "percent-encoded base64 key",
			in:   "https://api.fanout.io/realm/abc123?iss=abc123&key=base64%3A%2B%2B%2F%2FAAE%3D",
			want: grip.Config{ControlURL: "https://api.fanout.io/realm/abc123", Key: binKey, Iss: "abc123"},
		},
		{
			name: "trailing slash dropped",
			in:   "http://127.0.0.1:5561/?key=k",
			want: grip.Config{ControlURL: "http://127.0.0.1:5561", Key: []byte("k")},
		},
		{
			name: "verify params",
			in:   "http://pushpin:5561?key=pub&verify-key=base64:c2ln&verify-iss=pushpin",
			want: grip.Config{ControlURL: "http://pushpin:5561", Key: []byte("pub"), VerifyKey: []byte("sig"), VerifyIss: "pushpin"},
		},
		{name: "empty", in: "", wantErr: "empty GRIP URL"},
		{name: "no scheme", in: "localhost:5561?key=k", wantErr: "scheme must be http or https"},
		{name: "wrong scheme", in: "ftp://localhost:5561?key=k", wantErr: "scheme must be http or https"},
		{name: "no host", in: "http:///publish?key=k", wantErr: "no host"},
		{name: "unparsable", in: "http://local host:5561?key=k", wantErr: "invalid GRIP URL"},
		{name: "missing key", in: "http://localhost:5561", wantErr: "no key parameter"},
		{name: "empty key", in: "http://localhost:5561?key=", wantErr: "key: empty"},
		{name: "empty base64 key", in: "http://localhost:5561?key=base64:", wantErr: "key: empty"},
		{name: "bad base64", in: "http://localhost:5561?key=base64:!!!", wantErr: "bad base64"},
		{name: "bad verify-key", in: "http://localhost:5561?key=k&verify-key=base64:!", wantErr: "verify-key: bad base64"},
		{name: "unknown param", in: "http://localhost:5561?key=k&isss=x", wantErr: `unknown parameter "isss"`},
		{name: "repeated param", in: "http://localhost:5561?key=k&key=j", wantErr: `repeats parameter "key"`},
		{name: "bad escape", in: "http://localhost:5561?key=%zz", wantErr: "invalid URL escape"},
		{name: "user info", in: "http://user:pass@localhost:5561?key=k", wantErr: "user info"},
		{name: "fragment", in: "http://localhost:5561?key=k#x", wantErr: "fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := grip.ParseURL(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseURLErrorsHideKey(t *testing.T) {
	for _, in := range []string{
		"http://local host:5561?key=s3cret",
		"ftp://localhost?key=s3cret",
		"http://localhost?key=s3cret&nope=1",
	} {
		_, err := grip.ParseURL(in)
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cret")
	}
}

func TestConfigStringHidesKey(t *testing.T) {
	cfg := grip.Config{ControlURL: "http://x", Key: []byte("s3cret"), VerifyKey: []byte("s3cret2")}
	for _, s := range []string{cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg)} {
		assert.NotContains(t, s, "s3cret")
		assert.Contains(t, s, "http://x")
	}
}
