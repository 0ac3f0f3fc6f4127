package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func runServe(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "serve", "Serves the web chat, the staff console and the JSON API on DIALOGO_ADDR,\n"+
		"applying pending migrations first. Stops cleanly on SIGINT or SIGTERM.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openDatabase(ctx, env, true)
	if err != nil {
		return err
	}
	defer db.close(env.log)

	reg := prometheus.NewRegistry()
	st, err := newSite(ctx, env, db, reg)
	if err != nil {
		return err
	}
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	workers := append([]func(context.Context) error{st.hub.Run}, st.workers...)
	hubDone := make(chan error, len(workers))
	for _, w := range workers {
		go func() { hubDone <- w(hubCtx) }()
	}
	defer func() {
		stopHub()
		for range workers {
			<-hubDone
		}
	}()
	httpServer := &http.Server{
		Addr:              env.cfg.Addr,
		Handler:           st.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          nil,
	}
	ln, err := net.Listen("tcp", env.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", env.cfg.Addr, err)
	}
	env.log.Info("Dialogo is serving", "url", "http://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- httpServer.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	env.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// http.Server.Shutdown does not close hijacked connections: the chat closes
	// its websockets itself ("going away": the widgets reconnect elsewhere).
	if err := st.chat.Shutdown(shutdownCtx); err != nil {
		env.log.Warn("closing the web chats", "err", err)
	}
	if err := httpServer.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// poolCollector exports the connection pool's figures to Prometheus.
type poolCollector struct {
	db                            *database
	total, idle, acquired, maxCon *prometheus.Desc
	waits                         *prometheus.Desc
}

func newPoolCollector(db *database) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("dialogo_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{db: db,
		total:    d("connections", "Open connections to PostgreSQL."),
		idle:     d("idle_connections", "Idle connections."),
		acquired: d("acquired_connections", "Connections in use."),
		maxCon:   d("max_connections", "The pool's maximum size."),
		waits:    d("empty_acquire_total", "Acquires that waited for a connection."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.maxCon, c.waits} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.db.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.maxCon, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
}
