package widget_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dialogo-pa/dialogo/channels/webchat/widget"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/internal/testdb"
	"github.com/dialogo-pa/dialogo/web"
)

// env is a Dialogo server with the widget, Bootstrap Italia's files and the
// fake chat server in place of package webchat, all behind web.Server's own
// middleware (its default security headers included), and an ente of the
// test's own.
type env struct {
	url    string
	store  *crm.Store
	tenant crm.Tenant
	fake   *fakeChat
}

func newEnv(t *testing.T, opts ...func(*widget.Config)) *env {
	t.Helper()
	pool := testdb.New(t)
	store := crm.NewStore(pool)
	tenant, err := store.EnsureTenant(context.Background(), "milano-"+randomHex(4), "Comune di Milano", "01199250158")
	require.NoError(t, err)

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := widget.Config{Store: store, Logger: logger}
	for _, o := range opts {
		o(&cfg)
	}
	fake := newFakeChat(t)
	srv := web.New(web.Config{
		Store: store, Pool: pool, Logger: logger,
		Areas: []web.Area{widget.New(cfg), fake},
	})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &env{url: ts.URL, store: store, tenant: tenant, fake: fake}
}

// enableAssistant lets the ente's virtual assistant answer first, as an
// administrator of the ente would: the page says so, and the fake chat
// starts new conversations with the assistant.
func (e *env) enableAssistant(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	admin, err := e.store.EnsureStaff(ctx, e.tenant.ID, crm.StaffInput{
		Email: "admin-" + randomHex(4) + "@comune.example.it", Name: "Alessandra Amministratrice",
		Roles: []crm.Role{crm.RoleAdmin}, Password: "una password lunga abbastanza",
	})
	require.NoError(t, err)
	require.NoError(t, e.store.SetAssistantSettings(ctx, admin.Actor(), crm.AssistantSettings{Enabled: true}))
	e.fake.set(func(f *fakeChat) { f.assistant = true })
}

func withLogin(c *widget.Config) { c.LoginEnabled = true }

func (e *env) chatURL(query string) string {
	u := e.url + "/chat/" + e.tenant.Slug
	if query != "" {
		u += "?" + query
	}
	return u
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
