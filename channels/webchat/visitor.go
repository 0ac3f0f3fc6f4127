package webchat

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// visitorTokenBytes is the size of a visitor token before encoding.
const visitorTokenBytes = 32

// newVisitorToken returns a fresh visitor token: 32 random bytes, base64url.
func newVisitorToken() string {
	b := make([]byte, visitorTokenBytes)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// validVisitorToken reports whether t has the shape of a visitor token.
func validVisitorToken(t string) bool {
	if len(t) != base64.RawURLEncoding.EncodedLen(visitorTokenBytes) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil && len(b) == visitorTokenBytes
}

// visitorID is the web-chat identity of a visitor token in the CRM: derived
// from its hash, so that the database never holds what opens the chat.
func visitorID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "v" + base64.RawURLEncoding.EncodeToString(sum[:])[:40]
}

// signedUserID is the web-chat identity of a user id that the ente's website
// signed (when it is not a codice fiscale): any text the site uses, hashed
// into the shape of a web-chat identity.
func signedUserID(userID string) string {
	sum := sha256.Sum256([]byte("signed-user\x00" + userID))
	return "u" + base64.RawURLEncoding.EncodeToString(sum[:])[:40]
}

func visitorClaim(id, lang string) crm.IdentityClaim {
	return crm.IdentityClaim{Kind: crm.IdentityWebchat, ExternalID: id, Language: lang}
}

// requestVisitor returns the visitor token of an HTTP request, from the
// header "Authorization: Visitor <token>" or, for addresses put in an <img>,
// the query parameter visitor.
func requestVisitor(r *http.Request, queryToo bool) (string, bool) {
	token := ""
	if scheme, rest, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Visitor") {
		token = strings.TrimSpace(rest)
	} else if queryToo {
		token = r.URL.Query().Get("visitor")
	}
	return token, validVisitorToken(token)
}

// rateLimits are token buckets by key (a visitor identity), shared by every
// connection of the key in this process. A bucket lives while a connection
// holds it, and a while after, so that reconnecting does not refill it.
type rateLimits struct {
	rate  float64 // tokens a second
	burst float64

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
	refs   int // connections holding it
}

func newRateLimits(perSecond, burst float64) *rateLimits {
	return &rateLimits{rate: perSecond, burst: burst, buckets: map[string]*bucket{}}
}

// acquire returns the key's bucket for a connection, which releases it when it ends.
func (l *rateLimits) acquire(key string, now time.Time) *bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(key, now)
	b.refs++
	return b
}

func (l *rateLimits) release(b *bucket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b.refs--
}

// allow takes a token from the key's bucket, for a request without a connection.
func (l *rateLimits) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.takeLocked(l.bucketLocked(key, now), now)
}

// take takes a token from a bucket, or says how long until one is there.
func (l *rateLimits) take(b *bucket, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.takeLocked(b, now)
}

func (l *rateLimits) takeLocked(b *bucket, now time.Time) (bool, time.Duration) {
	l.refill(b, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
	return false, wait
}

func (l *rateLimits) refill(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
		b.last = now
	}
}

func (l *rateLimits) bucketLocked(key string, now time.Time) *bucket {
	if now.Sub(l.lastSweep) > time.Minute {
		l.sweepLocked(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	return b
}

// sweepLocked forgets the buckets that no connection holds and that are full
// again: forgetting them changes nothing.
func (l *rateLimits) sweepLocked(now time.Time) {
	l.lastSweep = now
	for key, b := range l.buckets {
		if b.refs == 0 {
			l.refill(b, now)
			if b.tokens >= l.burst {
				delete(l.buckets, key)
			}
		}
	}
}
