// Command testpg starts and stops the private PostgreSQL cluster that one run of
// the test suite shares (see scripts/with-testpg.sh).
//
//	testpg start DIR   start (or reuse) the cluster kept in DIR; print its admin URL
//	testpg stop DIR    stop the server running on the cluster kept in DIR
//	testpg remove DIR  stop it and delete the cluster
//
// The URL, printed alone on standard output, holds the superuser's password and
// names the "postgres" database; tests create their own databases from it.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/dialogo-pa/dialogo/internal/pgcluster"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: testpg start|stop|remove DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "testpg:", err)
		os.Exit(1)
	}
}

func run(command, dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	switch command {
	case "start":
		c, err := pgcluster.Start(ctx, dir, log)
		if err != nil {
			return err
		}
		// The server outlives this process on purpose: "testpg stop" stops it.
		fmt.Println(c.URL("postgres"))
		return nil
	case "stop":
		return pgcluster.Shutdown(ctx, dir, log)
	case "remove":
		return pgcluster.Remove(ctx, dir, log)
	}
	return fmt.Errorf("unknown command %q; want start, stop or remove", command)
}
