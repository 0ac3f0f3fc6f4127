package web

import (
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

// loginLimiter counts failed sign-ins per key in memory. It is per instance:
// behind a load balancer with n replicas an attacker gets up to n times the
// budget. That is still a bound, and argon2id makes each guess expensive; a
// shared limit would need the database.
type loginLimiter struct {
	max    int
	window time.Duration

	mu       sync.Mutex
	failures map[string]loginFailures
}

type loginFailures struct {
	count int
	first time.Time // the start of the window
}

func newLoginLimiter(max int, window time.Duration) *loginLimiter {
	return &loginLimiter{max: max, window: window, failures: map[string]loginFailures{}}
}

// retryAfter returns how long key must wait before trying again, or 0.
func (l *loginLimiter) retryAfter(key string, now time.Time) time.Duration {
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
func (l *loginLimiter) fail(key string, now time.Time) {
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
func (l *loginLimiter) succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}
