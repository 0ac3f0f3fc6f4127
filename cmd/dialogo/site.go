package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dialogo-pa/dialogo/assistant"
	"github.com/dialogo-pa/dialogo/channels"
	"github.com/dialogo-pa/dialogo/channels/webchat"
	"github.com/dialogo-pa/dialogo/channels/webchat/widget"
	"github.com/dialogo-pa/dialogo/crm"
	"github.com/dialogo-pa/dialogo/knowledge"
	"github.com/dialogo-pa/dialogo/web"
	"github.com/dialogo-pa/dialogo/web/citizenauth"
	"github.com/dialogo-pa/dialogo/web/console"
)

// site is everything `serve` runs on one database: the event hub and the HTTP
// handler with its areas.
type site struct {
	hub     *crm.Hub
	chat    *webchat.Server
	handler http.Handler
	// workers run in the background until serve stops: the dispatcher, the
	// assistant, the re-embedder.
	workers []func(context.Context) error
}

// newSite builds the site. The hub must run (hub.Run) for the chat and the
// console to get live events, and the workers for replies to be delivered
// and the assistant to answer.
func newSite(ctx context.Context, env *environment, db *database, reg *prometheus.Registry) (*site, error) {
	store := crm.NewStore(db.pool)
	hub := crm.NewHub(db.pool, env.log)

	var login citizenauth.Provider
	if env.cfg.OIDCIssuer == "" {
		env.log.Info("citizen login (SPID/CIE) is off: DIALOGO_OIDC_ISSUER is not set")
	} else {
		p, err := citizenauth.NewOIDC(ctx, citizenauth.OIDCConfig{
			Issuer:        env.cfg.OIDCIssuer,
			ClientID:      env.cfg.OIDCClientID,
			ClientSecret:  env.cfg.OIDCClientSecret,
			RedirectURL:   env.cfg.PublicURL + webchat.CallbackPath,
			ACRValues:     env.cfg.OIDCACRValues,
			StateKey:      env.cfg.SecretKey,
			SecureCookies: env.cfg.SecureCookies,
		})
		if err != nil {
			return nil, fmt.Errorf("citizen login: %w", err)
		}
		login = p
		env.log.Info("citizen login (SPID/CIE) is on", "issuer", env.cfg.OIDCIssuer)
	}

	chat := webchat.New(webchat.Config{
		Store:         store,
		Hub:           hub,
		Logger:        env.log,
		Login:         login,
		PublicURL:     env.cfg.PublicURL,
		SecureCookies: env.cfg.SecureCookies,
	})
	if reg != nil {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
			newPoolCollector(db))
	}
	emb, err := newEmbedder(ctx, env)
	if err != nil {
		return nil, err
	}
	model, modelName, err := newLanguageModel(env.cfg)
	if err != nil {
		return nil, err
	}
	if model == nil {
		env.log.Info("the assistant answers by quoting the knowledge base: no language model is configured (DIALOGO_LLM_PROVIDER)")
	} else {
		env.log.Info("the assistant writes its answers with a language model", "model", modelName)
	}
	asst := assistant.New(assistant.Config{
		Store: store, Pool: db.pool, Embedder: emb, Model: model, ModelName: modelName, Hub: hub, Log: env.log,
		SourceLink: func(ente, name string) string {
			return env.cfg.PublicURL + widget.SourcePath(ente, name)
		},
	})
	if reg != nil {
		asst.Register(reg)
	}
	logins := web.NewLoginLimiter() // one budget for the API's and the console's sign-in
	srv := web.New(web.Config{
		Store:         store,
		Pool:          db.pool,
		Logger:        env.log,
		Registry:      reg,
		SecureCookies: env.cfg.SecureCookies,
		Logins:        logins,
		Areas: []web.Area{
			chat,
			widget.New(widget.Config{Store: store, LoginEnabled: login != nil, SecureCookies: env.cfg.SecureCookies, Logger: env.log}),
			console.New(console.Config{Store: store, Hub: hub, Logger: env.log, SecureCookies: env.cfg.SecureCookies,
				Logins: logins, Pool: db.pool, Embedder: emb}),
		},
	})
	dispatcher := channels.NewDispatcher(store, hub, env.log, chat)
	return &site{hub: hub, chat: chat, handler: srv.Handler(), workers: []func(context.Context) error{
		dispatcher.Run,
		asst.Run,
		func(ctx context.Context) error { knowledge.RunReembedder(ctx, db.pool, emb, env.log); return nil },
	}}, nil
}
