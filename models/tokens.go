package models

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"time"

	r "gopkg.in/rethinkdb/rethinkdb-go.v6"
)

// Token limits.
const (
	// tokenBytes is a token's randomness: 256 bits.
	tokenBytes = 32
	// maxTokenLen bounds what is hashed and looked up.
	maxTokenLen = 256
	// MaxTokenTTL is the longest a token may live: 30 days.
	MaxTokenTTL = 30 * 24 * time.Hour
)

// Tokens is the tokens table. A token is stored only as its SHA-256 (the
// primary key), with its user and expiry.
type Tokens struct {
	st    *Store
	push  *Push
	table r.Term
}

// Session is what a valid token says: whose it is, until when, and its hash
// (what revocation is announced by).
type Session struct {
	User      User
	Hash      string
	ExpiresAt time.Time
}

type tokenDoc struct {
	Hash      string  `rethinkdb:"id"`
	User      string  `rethinkdb:"user"`
	ExpiresAt float64 `rethinkdb:"expires_at"`
}

// TokenHash is the stored form of token.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Issue creates a token for the user, valid for ttl (at most MaxTokenTTL),
// and returns it with its expiry, whole seconds since the epoch.
func (t *Tokens) Issue(ctx context.Context, user *User, ttl time.Duration) (string, int64, error) {
	if ttl < time.Second || ttl > MaxTokenTTL {
		return "", 0, invalid("ttl must be 1 to %d seconds", int64(MaxTokenTTL/time.Second))
	}
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails on Linux
	token := base64.RawURLEncoding.EncodeToString(b)
	expires := time.Now().Add(ttl).Unix()
	ctx, cancel := t.st.queryContext(ctx)
	defer cancel()
	res, err := t.st.write(ctx, "issue token", t.table.Insert(map[string]any{
		"id": TokenHash(token), "user": user.ID, "expires_at": expires, "created_at": r.Now(),
	}))
	if err != nil {
		return "", 0, err
	}
	if res.Errors > 0 {
		return "", 0, classify("issue token", errors.New(res.FirstError))
	}
	return token, expires, nil
}

// Check returns the session of a valid token: known, not expired, of a
// user that exists. Anything else is ErrUnauthorized.
func (t *Tokens) Check(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > maxTokenLen {
		return nil, unauthorized("missing or invalid token")
	}
	hash := TokenHash(token)
	qctx, cancel := t.st.queryContext(ctx)
	defer cancel()
	var doc tokenDoc
	err := t.table.Get(hash).ReadOne(&doc, t.st.session, r.RunOpts{Context: qctx})
	if errors.Is(err, r.ErrEmptyResult) {
		return nil, unauthorized("invalid or revoked token")
	}
	if err != nil {
		return nil, classify("check token", err)
	}
	// The lookup was by hash; compare in constant time all the same.
	if subtle.ConstantTimeCompare([]byte(doc.Hash), []byte(hash)) != 1 {
		return nil, unauthorized("invalid or revoked token")
	}
	expires := time.Unix(int64(doc.ExpiresAt), 0)
	if !time.Now().Before(expires) {
		return nil, unauthorized("token expired")
	}
	user, err := t.push.Users.Get(ctx, doc.User)
	if errors.Is(err, ErrNotFound) {
		return nil, unauthorized("invalid or revoked token")
	}
	if err != nil {
		return nil, err
	}
	return &Session{User: *user, Hash: hash, ExpiresAt: expires}, nil
}

// Exist returns which of the token hashes are still stored, for a resync
// after the revocations feed reconnects.
func (t *Tokens) Exist(ctx context.Context, hashes []string) (map[string]bool, error) {
	out := make(map[string]bool, len(hashes))
	if len(hashes) == 0 {
		return out, nil
	}
	keys := make([]any, len(hashes))
	for i, h := range hashes {
		keys[i] = h
	}
	ctx, cancel := t.st.queryContext(ctx)
	defer cancel()
	var ids []string
	if err := t.table.GetAll(keys...).Field("id").ReadAll(&ids, t.st.session, r.RunOpts{Context: ctx}); err != nil {
		return nil, classify("check tokens", err)
	}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// DeleteExpired deletes up to limit tokens that expired before now and
// returns how many it deleted.
func (t *Tokens) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	ctx, cancel := t.st.queryContext(ctx)
	defer cancel()
	res, err := t.table.Between(r.MinVal, now.Unix(), r.BetweenOpts{Index: expiresIndex}).
		Limit(limit).Delete().RunWrite(t.st.session, r.RunOpts{Context: ctx})
	if err != nil {
		return 0, classify("delete expired tokens", err)
	}
	return res.Deleted, nil
}

// TokenChange is a token written or deleted: Deleted with the hash of a
// token that is gone.
type TokenChange struct {
	Hash    string
	Deleted bool
}

// Changes follows the tokens table: deletions are revocations.
func (t *Tokens) Changes(ctx context.Context) (*Feed[TokenChange], error) {
	return openFeed(ctx, t.st, t.table.Changes(), func(doc changeDoc) (TokenChange, error) {
		if doc.NewVal != nil {
			return TokenChange{}, nil
		}
		var old tokenDoc
		if err := decode(doc.OldVal, &old); err != nil {
			return TokenChange{}, err
		}
		return TokenChange{Hash: old.Hash, Deleted: true}, nil
	})
}
