package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dialogo-pa/dialogo/internal/pgcluster"
)

// config is Dialogo's configuration, read from the environment and checked as a
// whole at start-up.
type config struct {
	DatabaseURL   string // empty: the private cluster
	DataDir       string
	Addr          string
	LogLevel      slog.Level
	LogJSON       bool
	SecureCookies bool
}

func configFromEnv(lookup func(string) (string, bool)) (config, error) {
	get := func(k, def string) string {
		if v, ok := lookup(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	cfg := config{
		DatabaseURL: get("DATABASE_URL", ""),
		DataDir:     get("DIALOGO_DATA_DIR", pgcluster.DefaultDataDir()),
		Addr:        get("DIALOGO_ADDR", "127.0.0.1:8080"),
	}
	if !filepath.IsAbs(cfg.DataDir) {
		abs, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return config{}, fmt.Errorf("DIALOGO_DATA_DIR: %w", err)
		}
		cfg.DataDir = abs
	}
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return config{}, fmt.Errorf("DIALOGO_ADDR %q: use host:port, e.g. 127.0.0.1:8080", cfg.Addr)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(get("DIALOGO_LOG_LEVEL", "info"))); err != nil {
		return config{}, fmt.Errorf("DIALOGO_LOG_LEVEL: use debug, info, warn or error")
	}
	switch f := get("DIALOGO_LOG_FORMAT", "text"); f {
	case "text":
	case "json":
		cfg.LogJSON = true
	default:
		return config{}, fmt.Errorf("DIALOGO_LOG_FORMAT %q: use text or json", f)
	}
	secure, err := strconv.ParseBool(get("DIALOGO_SECURE_COOKIES", "false"))
	if err != nil {
		return config{}, fmt.Errorf("DIALOGO_SECURE_COOKIES: use true or false")
	}
	cfg.SecureCookies = secure
	return cfg, nil
}

func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
