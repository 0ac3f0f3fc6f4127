package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dialogo-pa/dialogo/internal/pgcluster"
	"github.com/dialogo-pa/dialogo/migrations"
)

// environment is what every subcommand gets: configuration, output and logger.
type environment struct {
	cfg    config
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

// defaultMaxConns is the connection pool's size unless DATABASE_URL says otherwise.
const defaultMaxConns = 20

// database is an open, migrated database, and the private cluster behind it when
// Dialogo started one.
type database struct {
	pool    *pgxpool.Pool
	cluster *pgcluster.Cluster
	url     string // holds a password: never log it
}

// openDatabase connects to DATABASE_URL, or starts (or reuses) the private cluster
// when it is unset, and applies the migrations when migrate is set.
func openDatabase(ctx context.Context, env *environment, migrate bool) (*database, error) {
	db := &database{url: env.cfg.DatabaseURL}
	if db.url == "" {
		dir := filepath.Join(env.cfg.DataDir, "postgres")
		env.log.Info("DATABASE_URL is not set: using a private PostgreSQL cluster", "dir", dir)
		c, err := pgcluster.Start(ctx, dir, env.log)
		if err != nil {
			return nil, err
		}
		db.cluster, db.url = c, c.URL(pgcluster.Database)
		env.log.Info("private PostgreSQL ready", "cluster", c.String())
	}
	cfg, err := pgxpool.ParseConfig(db.url)
	if err != nil {
		db.close(env.log)
		return nil, fmt.Errorf("DATABASE_URL: %w", redact(err))
	}
	// pgxpool's default (4, or the number of CPUs) starves a server with many
	// chats open: every message and every new visitor needs a connection. A
	// pool_max_conns in DATABASE_URL still decides.
	if !strings.Contains(db.url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	db.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		db.close(env.log)
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.pool.Ping(pingCtx); err != nil {
		db.close(env.log)
		return nil, fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	if migrate {
		if err := db.migrate(ctx, env.log); err != nil {
			db.close(env.log)
			return nil, err
		}
	}
	return db, nil
}

func (db *database) migrate(ctx context.Context, log *slog.Logger) error {
	sqldb := stdlib.OpenDBFromPool(db.pool)
	defer sqldb.Close()
	return migrateDB(ctx, sqldb, log)
}

func migrateDB(ctx context.Context, sqldb *sql.DB, log *slog.Logger) error {
	before, latest, err := migrations.Status(ctx, sqldb)
	if err != nil {
		return err
	}
	if err := migrations.Up(ctx, sqldb); err != nil {
		return err
	}
	if before < latest {
		log.Info("database migrated", "from_version", before, "to_version", latest)
	} else {
		log.Info("database schema is up to date", "version", latest)
	}
	return nil
}

// close closes the pool and stops the private cluster if this process started it.
func (db *database) close(log *slog.Logger) {
	if db.pool != nil {
		db.pool.Close()
	}
	if db.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.cluster.Stop(ctx); err != nil {
			log.Error("stopping the private PostgreSQL", "err", err)
		}
	}
}

// redact keeps a connection string's password out of an error: pgx's parse errors
// may quote the URL.
func redact(err error) error {
	return fmt.Errorf("cannot parse the connection string (%T)", err)
}
