package wire

import (
	"bufio"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"

	"gopkg.in/rethinkdb/rethinkdb-go.v6/ql2"
)

// serverVersion is what RethinkDB 2.4.4 reports in its first handshake reply.
const serverVersion = "2.4.4-fallback"

// unsupportedProtocol is written, as "ERROR: ...\n" and a NUL, to a client
// whose magic number is not V1_0; then the connection is closed.
const unsupportedProtocol = "Received an unsupported protocol version. This port is for RethinkDB queries. Does your client driver version not match the server?"

// Iteration counts as real RethinkDB stores them: the passwordless admin of a
// fresh server has i=1, a password set by a user gets the default 4096.
const (
	iterationsNoPassword = 1
	iterationsPassword   = 4096
)

// credential is a stored SCRAM-SHA-256 password: the salted password stands
// in for the plaintext, as in real RethinkDB's password_t.
type credential struct {
	salt       []byte
	iterations int
	salted     []byte
}

func newCredential(password string) credential {
	iter := iterationsPassword
	if password == "" {
		iter = iterationsNoPassword
	}
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	salted, err := pbkdf2.Key(sha256.New, password, salt, iter, sha256.Size)
	if err != nil {
		// Only FIPS-140 mode rejects these parameters; a test server cannot run without it.
		panic(fmt.Sprintf("minirethink: pbkdf2: %v", err))
	}
	return credential{salt: salt, iterations: iter, salted: salted}
}

// Users is the set of accounts the server accepts: name to password. It is
// safe for concurrent use and can be shared by successive servers so that a
// restart keeps the accounts.
type Users struct {
	mu sync.RWMutex
	m  map[string]credential
}

// NewUsers returns the accounts of a fresh RethinkDB server: "admin" with an
// empty password.
func NewUsers() *Users {
	u := &Users{m: map[string]credential{}}
	u.Set("admin", "")
	return u
}

// Set creates the user or changes its password. Connections already
// authenticated are not affected, as with real RethinkDB.
func (u *Users) Set(name, password string) {
	c := newCredential(password)
	u.mu.Lock()
	u.m[name] = c
	u.mu.Unlock()
}

// Delete removes a user; later handshakes as that user fail with "Unknown user".
func (u *Users) Delete(name string) {
	u.mu.Lock()
	delete(u.m, name)
	u.mu.Unlock()
}

func (u *Users) lookup(name string) (credential, bool) {
	u.mu.RLock()
	defer u.mu.RUnlock()
	c, ok := u.m[name]
	return c, ok
}

// authError is a handshake failure: either a protocol error sent to the
// client as {"error","error_code","success":false}, or an I/O error (io set)
// after which nothing can be sent.
type authError struct {
	code int
	msg  string
	io   error
}

func (e *authError) Error() string {
	if e.io != nil {
		return e.io.Error()
	}
	return fmt.Sprintf("handshake error %d: %s", e.code, e.msg)
}

// handshake runs the V1_0 handshake on a fresh connection and returns the
// authenticated user. On failure it has already told the client why.
func handshake(nc net.Conn, br *bufio.Reader, users *Users) (string, error) {
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return "", err
	}
	if binary.LittleEndian.Uint32(magic[:]) != uint32(ql2.VersionDummy_V1_0) {
		// Older protocol versions (V0_3/V0_4 auth keys) are not supported:
		// the Go driver v6 speaks V1_0 only.
		_, _ = nc.Write([]byte("ERROR: " + unsupportedProtocol + "\n\x00"))
		return "", fmt.Errorf("unsupported protocol version %#x", binary.LittleEndian.Uint32(magic[:]))
	}
	// Real RethinkDB announces its versions before reading the client's first message.
	if err := writeHandshake(nc, map[string]any{
		"max_protocol_version": 0,
		"min_protocol_version": 0,
		"server_version":       serverVersion,
		"success":              true,
	}); err != nil {
		return "", err
	}
	user, aerr := authenticate(nc, br, users)
	if aerr != nil {
		if aerr.io == nil {
			_ = writeHandshake(nc, map[string]any{"error": aerr.msg, "error_code": aerr.code, "success": false})
		}
		return "", aerr
	}
	return user, nil
}

func authenticate(nc net.Conn, br *bufio.Reader, users *Users) (string, *authError) {
	first, err := readHandshakeObject(br)
	if err != nil {
		return "", err
	}
	// Checked in real RethinkDB's order, with its codes (client_protocol/server.cc).
	var version float64
	if !decodeField(first, "protocol_version", &version) {
		return "", &authError{code: 1, msg: "Expected a number for `protocol_version`."}
	}
	if version != 0 {
		return "", &authError{code: 2, msg: "Unsupported `protocol_version`."}
	}
	var method string
	if !decodeField(first, "authentication_method", &method) {
		return "", &authError{code: 3, msg: "Expected a string for `authentication_method`."}
	}
	if method != "SCRAM-SHA-256" {
		return "", &authError{code: 4, msg: "Unsupported `authentication_method`."}
	}
	var auth string
	if !decodeField(first, "authentication", &auth) {
		return "", &authError{code: 5, msg: "Expected a string for `authentication`."}
	}
	var s scram
	serverFirst, err := s.first(auth, users)
	if err != nil {
		return "", err
	}
	if err := writeHandshakeOrIO(nc, map[string]any{"authentication": serverFirst, "success": true}); err != nil {
		return "", err
	}

	final, err := readHandshakeObject(br)
	if err != nil {
		return "", err
	}
	if !decodeField(final, "authentication", &auth) {
		return "", &authError{code: 5, msg: "Expected a string for `authentication`."}
	}
	serverFinal, err := s.final(auth)
	if err != nil {
		return "", err
	}
	if err := writeHandshakeOrIO(nc, map[string]any{"authentication": serverFinal, "success": true}); err != nil {
		return "", err
	}
	return s.username, nil
}

func readHandshakeObject(br *bufio.Reader) (map[string]json.RawMessage, *authError) {
	msg, err := readHandshakeMessage(br)
	if err != nil {
		return nil, err
	}
	if !json.Valid(msg) {
		return nil, &authError{code: 8, msg: "Invalid JSON object."}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(msg, &obj) != nil {
		// Valid JSON but not an object: it has none of the fields we need,
		// which the field checks that follow report.
		obj = map[string]json.RawMessage{}
	}
	return obj, nil
}

func decodeField(obj map[string]json.RawMessage, name string, into any) bool {
	raw, ok := obj[name]
	return ok && json.Unmarshal(raw, into) == nil
}

func writeHandshakeOrIO(nc net.Conn, v map[string]any) *authError {
	if err := writeHandshake(nc, v); err != nil {
		return &authError{io: err}
	}
	return nil
}

// writeHandshake writes a handshake reply as real RethinkDB does: compact
// JSON with sorted keys, then a NUL.
func writeHandshake(nc net.Conn, v map[string]any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return err
	}
	_, err = nc.Write(append(b, 0))
	return err
}

// scram is the server side of SCRAM-SHA-256 (RFC 5802, RFC 7677), following
// real RethinkDB's scram_authenticator.cc, error codes included.
type scram struct {
	username        string
	cred            credential
	known           bool
	clientFirstBare string
	serverFirst     string
	nonce           string
}

func (s *scram) first(msg string, users *Users) (string, *authError) {
	if !strings.HasPrefix(msg, "n,") {
		return "", &authError{code: 15, msg: "Channel binding is not supported"}
	}
	comma := strings.IndexByte(msg[2:], ',')
	if comma < 0 {
		return "", &authError{code: 10, msg: "Invalid encoding"}
	}
	s.clientFirstBare = msg[2+comma+1:]
	attrs, err := splitAttributes(s.clientFirstBare)
	if err != nil {
		return "", err
	}
	var clientNonce string
	for _, k := range sortedKeys(attrs) {
		switch k {
		case 'n':
			name, err := saslnameDecode(attrs[k])
			if err != nil {
				return "", err
			}
			s.username = name
		case 'r':
			clientNonce = attrs[k]
		case 'm':
			return "", &authError{code: 11, msg: "Extensions not supported"}
		default:
			return "", &authError{code: 10, msg: "Invalid encoding"}
		}
	}
	if _, ok := attrs['n']; !ok {
		return "", &authError{code: 10, msg: "Invalid encoding"}
	}
	if _, ok := attrs['r']; !ok {
		return "", &authError{code: 10, msg: "Invalid encoding"}
	}
	s.cred, s.known = users.lookup(s.username)
	if !s.known {
		// Real RethinkDB carries on with a made-up password so that an unknown
		// user cannot be told from a wrong password before the proof is sent;
		// it fails the final step with "Unknown user" (code 17).
		// Only the salt and count are ever shown, so no hash is computed.
		s.cred = credential{salt: randomBytes(16), iterations: iterationsPassword}
	}
	s.nonce = clientNonce + base64.StdEncoding.EncodeToString(randomBytes(18))
	s.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", s.nonce, base64.StdEncoding.EncodeToString(s.cred.salt), s.cred.iterations)
	return s.serverFirst, nil
}

func (s *scram) final(msg string) (string, *authError) {
	if !s.known {
		return "", &authError{code: 17, msg: "Unknown user"}
	}
	clientKey := hmacSHA256(s.cred.salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	withoutProof := msg
	if i := strings.Index(msg, ",p="); i >= 0 {
		withoutProof = msg[:i]
	}
	authMessage := s.clientFirstBare + "," + s.serverFirst + "," + withoutProof
	clientSignature := hmacSHA256(storedKey[:], authMessage)
	proof := make([]byte, len(clientKey))
	for i := range clientKey {
		proof[i] = clientKey[i] ^ clientSignature[i]
	}

	attrs, err := splitAttributes(msg)
	if err != nil {
		return "", err
	}
	// Sorted like real RethinkDB's std::map, so a wrong password is reported
	// before a wrong nonce.
	for _, k := range sortedKeys(attrs) {
		switch k {
		case 'c':
			if attrs[k] != "biws" {
				return "", &authError{code: 10, msg: "Invalid encoding"}
			}
		case 'p':
			if !hmac.Equal([]byte(attrs[k]), []byte(base64.StdEncoding.EncodeToString(proof))) {
				return "", &authError{code: 12, msg: "Wrong password"}
			}
		case 'r':
			if attrs[k] != s.nonce {
				return "", &authError{code: 20, msg: "Other error"}
			}
		case 'm':
			return "", &authError{code: 11, msg: "Extensions not supported"}
		default:
			return "", &authError{code: 10, msg: "Invalid encoding"}
		}
	}
	for _, k := range []byte{'c', 'r', 'p'} {
		if _, ok := attrs[k]; !ok {
			return "", &authError{code: 10, msg: "Invalid encoding"}
		}
	}
	serverKey := hmacSHA256(s.cred.salted, "Server Key")
	return "v=" + base64.StdEncoding.EncodeToString(hmacSHA256(serverKey, authMessage)), nil
}

func splitAttributes(msg string) (map[byte]string, *authError) {
	attrs := map[byte]string{}
	for off := 0; off < len(msg); {
		eq := strings.IndexByte(msg[off:], '=')
		if eq != 1 {
			return nil, &authError{code: 10, msg: "Invalid encoding"}
		}
		key := msg[off]
		if _, dup := attrs[key]; dup {
			return nil, &authError{code: 10, msg: "Invalid encoding"}
		}
		value := msg[off+2:]
		if comma := strings.IndexByte(value, ','); comma >= 0 {
			value = value[:comma]
			off += 2 + comma + 1
		} else {
			off = len(msg)
		}
		attrs[key] = value
	}
	return attrs, nil
}

func sortedKeys(m map[byte]string) []byte {
	keys := make([]byte, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// saslnameDecode undoes RFC 5802's escaping of ',' and '=' in user names.
func saslnameDecode(s string) (string, *authError) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", &authError{code: 18, msg: "Invalid username encoding"}
		}
		i += 2
	}
	return b.String(), nil
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
