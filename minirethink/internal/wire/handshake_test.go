package wire

import (
	"encoding/binary"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const versionsReply = `{"max_protocol_version":0,"min_protocol_version":0,"server_version":"2.4.4-fallback","success":true}`

func TestWrongMagicNumber(t *testing.T) {
	checkGoroutines(t)
	_, addr := start(t, Config{})
	c := dialRaw(t, addr)
	c.write(binary.LittleEndian.AppendUint32(nil, 0x3f61ba36)) // V0_4
	assert.Equal(t, "ERROR: Received an unsupported protocol version. This port is for RethinkDB queries. Does your client driver version not match the server?\n\x00",
		string(c.expectEOF()))
}

func TestHandshakeAsInTranscript(t *testing.T) {
	checkGoroutines(t)
	users := NewUsers()
	users.Set("bob", "secret")
	_, addr := start(t, Config{Users: users})

	serverFirst := regexp.MustCompile(`^\{"authentication":"r=rOprNGfwEbeRWgbNEkqO[A-Za-z0-9+/]{24},s=([A-Za-z0-9+/]{22}==),i=(\d+)","success":true\}$`)
	salts := map[string]string{}
	for _, tc := range []struct {
		user, password string
		iterations     string
	}{
		{"admin", "", "1"},
		{"admin", "", "1"},
		{"bob", "secret", "4096"},
	} {
		msgs, err := dialRaw(t, addr).handshake(tc.user, tc.password)
		require.NoError(t, err)
		require.Len(t, msgs, 3)
		assert.Equal(t, versionsReply, msgs[0])
		m := serverFirst.FindStringSubmatch(msgs[1])
		require.NotNil(t, m, msgs[1])
		assert.Equal(t, tc.iterations, m[2])
		if prev, ok := salts[tc.user]; ok {
			assert.Equal(t, prev, m[1], "a user's salt is stored, not made per connection")
		}
		salts[tc.user] = m[1]
		assert.Regexp(t, `^\{"authentication":"v=[A-Za-z0-9+/]{43}=","success":true\}$`, msgs[2])
	}
}

func TestHandshakeFailures(t *testing.T) {
	users := NewUsers()
	users.Set("bob", "secret")
	_, addr := start(t, Config{Users: users})

	t.Run("wrong password", func(t *testing.T) {
		c := dialRaw(t, addr)
		msgs, err := c.handshake("bob", "nope")
		require.Error(t, err)
		assert.Equal(t, `{"error":"Wrong password","error_code":12,"success":false}`, msgs[len(msgs)-1])
		assert.Empty(t, c.expectEOF())
	})
	t.Run("unknown user", func(t *testing.T) {
		c := dialRaw(t, addr)
		msgs, err := c.handshake("carol", "")
		require.Error(t, err)
		require.Len(t, msgs, 3, "an unknown user is only told at the final step")
		assert.Regexp(t, `,i=4096","success":true\}$`, msgs[1])
		assert.Equal(t, `{"error":"Unknown user","error_code":17,"success":false}`, msgs[2])
		assert.Empty(t, c.expectEOF())
	})

	magic := string(binary.LittleEndian.AppendUint32(nil, 0x34c2bdc3))
	for _, tc := range []struct {
		name, first, want string
	}{
		{"not JSON", `{nope`, `{"error":"Invalid JSON object.","error_code":8,"success":false}`},
		{"not an object", `[1]`, `{"error":"Expected a number for ` + "`protocol_version`" + `.","error_code":1,"success":false}`},
		{"protocol version", `{"protocol_version":1,"authentication_method":"SCRAM-SHA-256","authentication":"n,,n=admin,r=x"}`, `{"error":"Unsupported ` + "`protocol_version`" + `.","error_code":2,"success":false}`},
		{"method", `{"protocol_version":0,"authentication_method":"PLAIN","authentication":"n,,n=admin,r=x"}`, `{"error":"Unsupported ` + "`authentication_method`" + `.","error_code":4,"success":false}`},
		{"no authentication", `{"protocol_version":0,"authentication_method":"SCRAM-SHA-256"}`, `{"error":"Expected a string for ` + "`authentication`" + `.","error_code":5,"success":false}`},
		{"channel binding", `{"protocol_version":0,"authentication_method":"SCRAM-SHA-256","authentication":"y,,n=admin,r=x"}`, `{"error":"Channel binding is not supported","error_code":15,"success":false}`},
		{"no nonce", `{"protocol_version":0,"authentication_method":"SCRAM-SHA-256","authentication":"n,,n=admin"}`, `{"error":"Invalid encoding","error_code":10,"success":false}`},
		{"bad user name escape", `{"protocol_version":0,"authentication_method":"SCRAM-SHA-256","authentication":"n,,n=a=ZZ,r=x"}`, `{"error":"Invalid username encoding","error_code":18,"success":false}`},
		{"too long", `{"x":"` + strings.Repeat("a", 3000) + `"}`, `{"error":"Limited read buffer size.","error_code":7,"success":false}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			c.write([]byte(magic + tc.first + "\x00"))
			got, err := c.readMsg()
			require.NoError(t, err)
			assert.Equal(t, versionsReply, got)
			got, err = c.readMsg()
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			// The client may still be sending; what matters is that the server hangs up.
			_ = c.nc.SetReadDeadline(deadline())
			_, err = c.br.ReadByte()
			assert.Error(t, err)
		})
	}
}

func TestHandshakeTimeout(t *testing.T) {
	checkGoroutines(t)
	_, addr := start(t, Config{HandshakeTimeout: 100 * millisecond})
	c := dialRaw(t, addr)
	c.write([]byte{0xc3, 0xbd}) // half a magic number, then nothing
	assert.Empty(t, c.expectEOF())
}

func TestSCRAMFinalMessageChecks(t *testing.T) {
	users := NewUsers()
	for _, tc := range []struct {
		name, final string
		code        int
	}{
		{"channel binding data", "c=eSws,r=%s,p=AAAA", 10},
		{"wrong proof comes before wrong nonce", "c=biws,r=other,p=AAAA", 12},
		{"missing proof", "c=biws,r=%s", 10},
		{"extension", "c=biws,m=x,r=%s,p=AAAA", 11},
		{"garbage", "nonsense", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s scram
			_, err := s.first("n,,n=admin,r=abc", users)
			require.Nil(t, err)
			final := tc.final
			if strings.Contains(final, "%s") {
				final = strings.Replace(final, "%s", s.nonce, 1)
			}
			_, err = s.final(final)
			require.NotNil(t, err)
			assert.Equal(t, tc.code, err.code, err.msg)
		})
	}
}
