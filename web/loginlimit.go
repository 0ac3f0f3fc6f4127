package web

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Sign-in throttling: after loginMaxFailures wrong passwords for one account
// from one address within loginWindow, further attempts are refused until the
// window ends.
const (
	loginMaxFailures = 10
	loginWindow      = 15 * time.Minute
	// loginSweepAt is the number of tracked keys above which expired ones are
	// dropped, so that the map stays bounded by recent activity.
	loginSweepAt = 10_000
)

// LoginLimiter counts failed sign-ins per account and client address, in
// memory; the API and the console share one, so that neither doubles the
// budget. It is per instance:
// behind a load balancer with n replicas an attacker gets up to n times the
// budget. That is still a bound, and argon2id makes each guess expensive; a
// shared limit would need the database.
type LoginLimiter struct {
	max    int
	window time.Duration

	mu       sync.Mutex
	failures map[string]loginFailures
}

type loginFailures struct {
	count int
	first time.Time // the start of the window
}

func newLoginLimiter(max int, window time.Duration) *LoginLimiter {
	return &LoginLimiter{max: max, window: window, failures: map[string]loginFailures{}}
}

// retryAfter returns how long key must wait before trying again, or 0.
func (l *LoginLimiter) retryAfter(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.failures[key]
	if !ok {
		return 0
	}
	end := f.first.Add(l.window)
	if !now.Before(end) {
		delete(l.failures, key)
		return 0
	}
	if f.count >= l.max {
		return end.Sub(now)
	}
	return 0
}

// fail records a failed attempt.
func (l *LoginLimiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.failures[key]
	if !ok || !now.Before(f.first.Add(l.window)) {
		f = loginFailures{first: now}
	}
	f.count++
	l.failures[key] = f
	if len(l.failures) > loginSweepAt {
		for k, f := range l.failures {
			if !now.Before(f.first.Add(l.window)) {
				delete(l.failures, k)
			}
		}
	}
}

// succeed forgets the failures of key.
func (l *LoginLimiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// NewLoginLimiter returns a limiter of loginMaxFailures failures per loginWindow.
func NewLoginLimiter() *LoginLimiter { return newLoginLimiter(loginMaxFailures, loginWindow) }

// RetryAfter returns how long a sign-in as email from r's address must wait, or 0.
func (l *LoginLimiter) RetryAfter(email string, r *http.Request) time.Duration {
	return l.retryAfter(loginKey(email, r), time.Now())
}

// Fail records a wrong password for email from r's address.
func (l *LoginLimiter) Fail(email string, r *http.Request) { l.fail(loginKey(email, r), time.Now()) }

// Succeed forgets the failures of email from r's address.
func (l *LoginLimiter) Succeed(email string, r *http.Request) { l.succeed(loginKey(email, r)) }

// loginKey is what failed sign-ins are counted by: the account and the client
// address. The address is the peer's: behind a proxy that is the proxy's, and
// the count is then per account.
func loginKey(email string, r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return strings.ToLower(strings.TrimSpace(email)) + "\x00" + host
}
