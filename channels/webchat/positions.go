package webchat

import (
	"context"
	"sync"
	"time"

	"github.com/dialogo-pa/dialogo/crm"
)

// positionsTTL is how stale the periodic queue-position refresh may be, and
// positionsMinReload how often a tenant's positions are read at most when
// changes keep invalidating them.
const (
	positionsTTL       = 2 * time.Second
	positionsMinReload = 250 * time.Millisecond
)

// positions caches the queue positions of each tenant: with thousands of
// citizens in a queue, one query per tenant every positionsTTL (or, while the
// queue changes, every positionsMinReload) replaces one count of the queue per
// citizen per change. A connection that learns of a change to its own
// conversation invalidates the cache first, so the position it then reads was
// computed after that change.
type positions struct {
	store *crm.Store

	mu      sync.Mutex
	tenants map[int64]*tenantPositions
}

type tenantPositions struct {
	at      time.Time
	stale   bool // a change was seen since the last load
	pos     map[int64]int
	loading chan struct{} // closed when the load under way ends
	err     error
}

func newPositions(store *crm.Store) *positions {
	return &positions{store: store, tenants: map[int64]*tenantPositions{}}
}

// get returns the conversation's place in its queue (0 when not queued), from
// data at most positionsTTL old; concurrent callers share one load.
func (p *positions) get(ctx context.Context, tenantID, conversationID int64) (int, error) {
	p.mu.Lock()
	t := p.tenants[tenantID]
	if t == nil {
		t = &tenantPositions{}
		p.tenants[tenantID] = t
	}
	for {
		if t.pos != nil && !t.stale && time.Since(t.at) < positionsTTL {
			n := t.pos[conversationID]
			p.mu.Unlock()
			return n, nil
		}
		if t.loading == nil {
			break
		}
		ch := t.loading
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		p.mu.Lock()
		if t.err != nil {
			err := t.err
			p.mu.Unlock()
			return 0, err
		}
	}
	ch := make(chan struct{})
	t.loading, t.stale = ch, false
	wait := positionsMinReload - time.Since(t.at)
	p.mu.Unlock()

	var m map[int64]int
	var err error
	if wait > 0 {
		// Changes keep coming: gather them for a moment, then read once.
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err == nil {
		m, err = p.store.QueuePositions(ctx, tenantID)
	}

	p.mu.Lock()
	t.loading, t.err = nil, err
	if err == nil {
		t.pos, t.at = m, time.Now()
	}
	close(ch)
	n := t.pos[conversationID]
	p.mu.Unlock()
	return n, err
}

// invalidate says that the tenant's queue changed: the next get reads it again.
func (p *positions) invalidate(tenantID int64) {
	p.mu.Lock()
	if t := p.tenants[tenantID]; t != nil {
		t.stale = true
	}
	p.mu.Unlock()
}
