// Command dialogo is Dialogo's one binary: the server, the migrations, the demo
// data and the benchmarks, as subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `dialogo: the omnichannel CRM and assistant for Italian municipalities.

Usage: dialogo <command> [flags]

Commands:
  serve     serve the web chat, the console and the API
  migrate   apply the database migrations
  demo      load the demo data (Comune di Milano and two other Comuni)
  import    import fascicolo records of an ente from a JSON file
  bench     run a benchmark (bench ingest, bench chat)
  kb        manage a knowledge base (kb ingest, kb search)

Run "dialogo <command> -h" for a command's flags. Configuration comes from the
environment:
  DATABASE_URL        PostgreSQL URL; unset: a private cluster in DIALOGO_DATA_DIR
  DIALOGO_DATA_DIR    where the private cluster lives (default ~/.local/share/dialogo)
  DIALOGO_ADDR        listen address of serve (default 127.0.0.1:8080)
  DIALOGO_LOG_LEVEL   debug, info, warn, error (default info)
  DIALOGO_LOG_FORMAT  text or json (default text)
  DIALOGO_SECURE_COOKIES  true behind HTTPS (default false)
  DIALOGO_PUBLIC_URL  the address citizens reach (default http://DIALOGO_ADDR)
  DIALOGO_SECRET_KEY  32+ random characters, the same on every instance
  DIALOGO_OIDC_ISSUER, DIALOGO_OIDC_CLIENT_ID, DIALOGO_OIDC_CLIENT_SECRET,
  DIALOGO_OIDC_ACR_VALUES  the SPID/CIE OpenID Connect provider (unset: login off)
`

type command struct {
	name string
	run  func(ctx context.Context, env *environment, args []string) error
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dialogo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	commands := []command{
		{"serve", runServe},
		{"migrate", runMigrate},
		{"demo", runDemo},
		{"import", runImport},
		{"bench", runBench},
		{"kb", runKB},
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	cfg, err := configFromEnv(os.LookupEnv)
	if err != nil {
		return err
	}
	env := &environment{cfg: cfg, stdout: stdout, stderr: stderr, log: newLogger(cfg, stderr)}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// newFlags returns a flag set for a subcommand whose -h prints its usage.
func newFlags(env *environment, name, summary string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "Usage: dialogo %s [flags]\n\n%s\n", name, summary)
		var n int
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(env.stderr, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}
