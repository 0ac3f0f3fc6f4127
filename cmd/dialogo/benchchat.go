package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/dialogo-pa/dialogo/crm"
)

// chatOptions are the flags of "bench chat".
type chatOptions struct {
	url, ente             string
	sessions              int
	rate                  float64
	size                  int
	ramp, duration, drain time.Duration
	baseline              bool
	openingMessage        bool
	serverPID             int
	sourceAddrs           int
	json                  bool
	serveEcho             string
}

// Limits of the load that hold for every run.
const (
	chatHandshakeTimeout = 10 * time.Second // dial, upgrade, hello and welcome
	chatWriteTimeout     = 10 * time.Second
	chatOpenGrace        = 15 * time.Second // how long opening may run past -ramp
	chatMaxOpening       = 256              // handshakes in flight at once
	chatIdlePing         = 25 * time.Second // a widget pings a socket idle this long
	chatMaxText          = 4000             // max_text of docs/chat-protocol.md
)

func runChatBench(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "bench chat", ""+
		"A load generator for the citizens' web chat (docs/chat-protocol.md) of a RUNNING Dialogo\n"+
		"server on this machine. It opens -sessions websockets to GET /chat/{ente}/ws at an even\n"+
		"pace over -ramp, each a new visitor (hello, welcome) who writes a first message, which\n"+
		"opens a conversation. Once those are stored, it sends -rate messages a second in all,\n"+
		"round-robin over the sessions, for -duration, and waits up to -drain for what is still\n"+
		"outstanding. An operator side subscribes to the ente's events with a crm.Hub on\n"+
		"the server's database (DATABASE_URL, or the private cluster in DIALOGO_DATA_DIR), that\n"+
		"is, to the NOTIFY sent when a message is committed. It reports the sessions held, the\n"+
		"messages acknowledged per second, the latency from a citizen's send to the moment the\n"+
		"operator side learns of the stored message (p50, p99), the server's resident memory per\n"+
		"session (VmRSS before and after the sessions open) and the errors.\n\n"+
		"In the same run, the same load goes to a bare gorilla/websocket echo server with no\n"+
		"persistence, started as a child process on loopback, whose hub forwards every message\n"+
		"to one operator websocket: the baseline. Traffic goes only to loopback addresses.")
	var o chatOptions
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the Dialogo server, on a loopback address; empty: only the baseline")
	fs.StringVar(&o.ente, "ente", "milano", "the ente (slug) whose web chat is loaded")
	fs.IntVar(&o.sessions, "sessions", 1000, "concurrent citizen websockets")
	fs.Float64Var(&o.rate, "rate", 200, "messages per second, in all")
	fs.IntVar(&o.size, "size", 100, "bytes of text per message")
	fs.DurationVar(&o.ramp, "ramp", 10*time.Second, "time over which the sessions are opened, at an even pace")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "time of sending, once the sessions are open")
	fs.DurationVar(&o.drain, "drain", 5*time.Second, "how long to wait after the last send for acks and deliveries")
	fs.BoolVar(&o.baseline, "baseline", true, "also measure the echo server, with the same load")
	fs.BoolVar(&o.openingMessage, "opening-message", true, "each session writes a first message as it opens, opening a conversation before the measured messages")
	fs.IntVar(&o.serverPID, "server-pid", 0, "the server's process id, for its memory; 0: the process listening on -url's port")
	fs.IntVar(&o.sourceAddrs, "source-addrs", 0, "connect from 127.0.0.1 ... 127.0.0.N, for more ephemeral ports; 0: as many as -sessions needs")
	fs.BoolVar(&o.json, "json", false, "print the figures as one JSON object")
	fs.StringVar(&o.serveEcho, "serve-echo", "", "only serve the baseline's echo server on this loopback address until standard input ends")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench chat: unexpected argument %q", fs.Arg(0))
	}
	if o.serveEcho != "" {
		return serveEchoUntilStdinEnds(ctx, env, o.serveEcho)
	}
	switch {
	case o.sessions < 1:
		return errors.New("bench chat: -sessions must be at least 1")
	case o.rate <= 0 || math.IsInf(o.rate, 0) || math.IsNaN(o.rate):
		return errors.New("bench chat: -rate must be positive")
	case o.size < 1 || o.size > chatMaxText:
		return fmt.Errorf("bench chat: -size must be between 1 and %d (the protocol's max_text)", chatMaxText)
	case o.ramp < 0 || o.duration <= 0 || o.drain < 0:
		return errors.New("bench chat: -duration must be positive, -ramp and -drain not negative")
	case o.sourceAddrs < 0 || o.sourceAddrs > 254:
		return errors.New("bench chat: -source-addrs must be between 0 and 254")
	case o.url == "" && !o.baseline:
		return errors.New("bench chat: nothing to measure: give -url or leave -baseline on")
	}
	var dialogo *chatEndpoint
	if o.url != "" {
		var err error
		if dialogo, err = chatEndpointOf(o.url, o.ente); err != nil {
			return fmt.Errorf("bench chat: %w", err)
		}
		if err := checkLocalDatabase(env); err != nil {
			return fmt.Errorf("bench chat: %w", err)
		}
	}

	// Each session is one socket here; the operator side, the database and the
	// standard files need a few more.
	openFiles, err := raiseOpenFilesLimit(uint64(o.sessions) + 64)
	if err != nil {
		return fmt.Errorf("bench chat: %w", err)
	}
	r := &chatReport{Benchmark: "chat", Sessions: o.sessions, Rate: o.rate, Size: o.size,
		RampSeconds: o.ramp.Seconds(), DurationSeconds: o.duration.Seconds(), DrainSeconds: o.drain.Seconds(),
		Client:         clientInfo{CPUs: runtime.NumCPU(), Platform: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()},
		OpenFilesLimit: openFiles, SourceAddrs: sourceAddressCount(o), LoadAverage: loadAverage()}
	if r.LoadAverage > float64(r.Client.CPUs)/2 {
		env.log.Warn("the machine is busy: other work will show in the latencies", "load_average", r.LoadAverage)
	}

	// The baseline runs first and alone, then Dialogo: the two never compete
	// for the machine's two cores.
	var runErr error
	if o.baseline {
		f, err := runEchoBaseline(ctx, env, o)
		if err != nil {
			return fmt.Errorf("bench chat: baseline: %w", err)
		}
		r.Targets = append(r.Targets, f)
	}
	if dialogo != nil && ctx.Err() == nil {
		f, err := runDialogoTarget(ctx, env, o, dialogo)
		if err != nil {
			runErr = fmt.Errorf("bench chat: dialogo: %w", err)
		} else {
			r.Targets = append(r.Targets, f)
		}
	}
	if ctx.Err() != nil {
		return errors.New("bench chat: interrupted")
	}
	if len(r.Targets) > 0 {
		if o.json {
			enc := json.NewEncoder(env.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(r); err != nil {
				return err
			}
		} else if err := r.print(env.stdout); err != nil {
			return err
		}
	}
	return runErr
}

// chatEndpoint is where a target serves the citizens' websocket.
type chatEndpoint struct {
	wsURL  string // ws://127.0.0.1:8080/chat/milano/ws
	origin string // the page the widget would run in: same origin
	ip     net.IP
	port   int
}

// chatEndpointOf checks that the server's URL is on a loopback address, so
// that the load can never reach another machine, and derives the websocket's.
func chatEndpointOf(raw, ente string) (*chatEndpoint, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("-url %q: use http://127.0.0.1:PORT", raw)
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("-url %q: use http:// (the load stays on loopback, where there is no TLS)", raw)
	}
	host, portText := u.Hostname(), u.Port()
	if portText == "" {
		portText = "80"
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("-url %q: bad port", raw)
	}
	ip := loopbackIP(host)
	if ip == nil {
		return nil, fmt.Errorf("-url %q: refused: the load generator only talks to loopback addresses (127.0.0.0/8, ::1, localhost)", raw)
	}
	// The address is used as given (localhost as 127.0.0.1), in the URL and in
	// the Origin alike, since the server checks that they match.
	hostPort := net.JoinHostPort(ip.String(), strconv.Itoa(port))
	path := strings.TrimRight(u.Path, "/") + "/chat/" + url.PathEscape(ente) + "/ws"
	return &chatEndpoint{wsURL: "ws://" + hostPort + path, origin: "http://" + hostPort, ip: ip, port: port}, nil
}

// loopbackIP returns host's address if it is a loopback one, else nil. Names
// other than localhost are not resolved: what a resolver answers could change.
func loopbackIP(host string) net.IP {
	if strings.EqualFold(host, "localhost") {
		return net.IPv4(127, 0, 0, 1)
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return nil
	}
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip
}

// checkLocalDatabase refuses a DATABASE_URL on another machine: the operator
// side's connection is traffic too. The private cluster listens on 127.0.0.1.
func checkLocalDatabase(env *environment) error {
	if env.cfg.DatabaseURL == "" {
		return nil
	}
	cfg, err := pgx.ParseConfig(env.cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", redact(err))
	}
	hosts := []string{cfg.Host}
	for _, f := range cfg.Fallbacks {
		hosts = append(hosts, f.Host)
	}
	for _, h := range hosts {
		if !strings.HasPrefix(h, "/") && loopbackIP(h) == nil { // a path is a Unix socket, local by nature
			return fmt.Errorf("DATABASE_URL names the host %q: the benchmark only talks to loopback addresses", h)
		}
	}
	return nil
}

// raiseOpenFilesLimit raises the soft limit on open files to the hard one and,
// when even that is below need, tries to raise the hard limit too (which takes
// root or CAP_SYS_RESOURCE). It returns the limit in force.
func raiseOpenFilesLimit(need uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("reading the open-files limit: %w", err)
	}
	if lim.Max < need {
		raised := syscall.Rlimit{Cur: need, Max: need}
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised) == nil {
			return need, nil
		}
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, fmt.Errorf("raising the open-files limit to %d: %w", lim.Max, err)
		}
	}
	if lim.Cur < need {
		return lim.Cur, fmt.Errorf("%d sessions need about %d open files, and the hard limit is %d: "+
			"raise it (ulimit -Hn as root, LimitNOFILE= in a systemd unit) or open fewer sessions", need-64, need, lim.Cur)
	}
	return lim.Cur, nil
}

// sourceAddressCount is how many loopback source addresses the sessions use.
// Each address has its own range of ephemeral ports (for one server address);
// with -source-addrs 0, addresses are added so that the sessions take at most
// half of each range, leaving the rest for TIME_WAIT and other programs.
func sourceAddressCount(o chatOptions) int {
	if o.sourceAddrs > 0 {
		return o.sourceAddrs
	}
	ports := 28232 // Linux's default range, 32768-60999
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			lo, err1 := strconv.Atoi(f[0])
			hi, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && hi > lo {
				ports = hi - lo + 1
			}
		}
	}
	return min(254, max(1, (2*o.sessions+ports-1)/ports))
}

// ipBindAddressNoPort is Linux's IP_BIND_ADDRESS_NO_PORT, which the syscall
// package lacks: with it, binding a source address leaves the choice of port to
// connect, which needs it unique only per server address, not per machine.
const ipBindAddressNoPort = 24

// chatDialers returns one dialer per source address; session i uses dialer
// i mod len. Only IPv4 servers get several: ::1 is the only IPv6 loopback address.
func chatDialers(serverIP net.IP, count int) []*websocket.Dialer {
	pool := &sync.Pool{}
	newDialer := func(local net.Addr) *websocket.Dialer {
		nd := &net.Dialer{LocalAddr: local, Timeout: chatHandshakeTimeout}
		if local != nil {
			nd.Control = func(network, address string, c syscall.RawConn) error {
				var serr error
				err := c.Control(func(fd uintptr) {
					serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
				})
				return errors.Join(err, serr)
			}
		}
		// Small buffers, and write buffers only while writing: the generator's
		// own memory stays modest at 10,000 sessions.
		return &websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: chatHandshakeTimeout,
			ReadBufferSize: 1024, WriteBufferSize: 1024, WriteBufferPool: pool}
	}
	if serverIP.To4() == nil || count <= 1 {
		return []*websocket.Dialer{newDialer(nil)}
	}
	dialers := make([]*websocket.Dialer, count)
	for i := range dialers {
		dialers[i] = newDialer(&net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i))})
	}
	return dialers
}

// runDialogoTarget measures the Dialogo server at e, with the operator side on
// the server's database.
func runDialogoTarget(ctx context.Context, env *environment, o chatOptions, e *chatEndpoint) (chatFigures, error) {
	pid := o.serverPID
	if pid == 0 {
		var err error
		if pid, err = listeningPID(e.port); err != nil {
			env.log.Warn("server memory not measured: pass -server-pid", "err", err)
		}
	}
	if pid == os.Getpid() {
		env.log.Warn("the server runs in this process: its memory per session includes the generator's")
	}
	tr := newChatTracker(env.log)
	op, err := startHubOperator(ctx, env, o.ente, tr)
	if err != nil {
		return chatFigures{}, err
	}
	defer op.stop()
	f, err := measureChat(ctx, env, o, "dialogo", e, pid, tr)
	f.Operator = op.describe
	return f, err
}

// runEchoBaseline measures the echo server, in a child process of its own as
// the Dialogo server is: its memory is then its own, and its sockets do not
// count against this process's open-files limit.
func runEchoBaseline(ctx context.Context, env *environment, o chatOptions) (chatFigures, error) {
	child, err := startEchoProcess(ctx, env)
	if err != nil {
		return chatFigures{}, err
	}
	defer child.stop(env)
	e, err := chatEndpointOf("http://"+child.addr, o.ente)
	if err != nil {
		return chatFigures{}, err
	}
	tr := newChatTracker(env.log)
	op, err := startEchoOperator(ctx, e, child.addr, tr)
	if err != nil {
		return chatFigures{}, err
	}
	defer op.stop()
	f, err := measureChat(ctx, env, o, "echo", e, child.cmd.Process.Pid, tr)
	f.Operator = "one websocket (GET /operator/ws) to which the echo hub forwards every message"
	return f, err
}

// chatFigures are the measurements of one target.
type chatFigures struct {
	Target         string       `json:"target"` // dialogo or echo
	URL            string       `json:"url"`
	Operator       string       `json:"operator"`
	ServerPID      int          `json:"server_pid,omitempty"`
	SessionsOpened int          `json:"sessions_opened"` // connected and welcomed
	SessionsHeld   int          `json:"sessions_held"`   // and still open at the end of sending
	OpenSeconds    float64      `json:"open_seconds"`
	HandshakeP99ms float64      `json:"handshake_p99_ms"`  // connect, upgrade, hello, welcome
	Opening        *chatOpening `json:"opening,omitempty"` // the sessions' first messages
	Sent           int          `json:"sent"`
	Acked          int          `json:"acked"`
	Delivered      int          `json:"delivered"` // acked, and the operator side learnt of it
	SentPerSecond  float64      `json:"sent_per_second"`
	AckedPerSecond float64      `json:"acked_per_second"`
	P50ms          float64      `json:"p50_ms"` // send → operator side told
	P99ms          float64      `json:"p99_ms"`
	MaxMs          float64      `json:"max_ms"`
	AckP50ms       float64      `json:"ack_p50_ms"` // send → ack (stored)
	AckP99ms       float64      `json:"ack_p99_ms"`
	// ServerCPU and GeneratorCPU are the CPU time each process used while the
	// measured messages were sent and drained, in % of one core.
	ServerCPU        float64        `json:"server_cpu_percent"`
	GeneratorCPU     float64        `json:"generator_cpu_percent"`
	RSSBeforeKiB     int64          `json:"rss_before_kib,omitempty"`
	RSSOpenKiB       int64          `json:"rss_open_kib,omitempty"`
	RSSEndKiB        int64          `json:"rss_end_kib,omitempty"`
	RSSPerSessionKiB *float64       `json:"rss_per_session_kib"` // null when the server's memory could not be read
	Errors           int            `json:"errors"`
	ErrorKinds       map[string]int `json:"error_kinds,omitempty"`
}

// chatOpening are the figures of the sessions' first messages, each of which
// opens a conversation: sent as the sessions open, at the ramp's pace.
type chatOpening struct {
	Sent      int     `json:"sent"`
	Acked     int     `json:"acked"`
	Delivered int     `json:"delivered"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	AckP50ms  float64 `json:"ack_p50_ms"`
	AckP99ms  float64 `json:"ack_p99_ms"`
}

// chatReport is what "bench chat" prints; the JSON names are its -json output.
type chatReport struct {
	Benchmark       string     `json:"benchmark"`
	Sessions        int        `json:"sessions"`
	Rate            float64    `json:"rate"`
	Size            int        `json:"size"`
	RampSeconds     float64    `json:"ramp_seconds"`
	DurationSeconds float64    `json:"duration_seconds"`
	DrainSeconds    float64    `json:"drain_seconds"`
	Client          clientInfo `json:"client"`
	OpenFilesLimit  uint64     `json:"open_files_limit"`
	// LoadAverage is the machine's 1-minute load average before the run:
	// other work on the machine's cores shows up in the latencies.
	LoadAverage float64       `json:"load_average"`
	SourceAddrs int           `json:"source_addrs"`
	Targets     []chatFigures `json:"targets"`
}

// chatSession is one citizen's websocket.
type chatSession struct {
	id        int
	conn      *websocket.Conn
	wmu       sync.Mutex // one writer at a time, as gorilla/websocket requires
	sent      atomic.Int64
	lastWrite atomic.Int64 // unix nanoseconds
	dropped   atomic.Bool  // the connection ended before we closed it
	closing   atomic.Bool
	readDone  chan struct{}
}

// chatFrame holds the fields of the protocol's frames that the generator reads or writes.
type chatFrame struct {
	Type           string      `json:"type"`
	ClientID       string      `json:"client_id,omitempty"`
	Text           string      `json:"text,omitempty"`
	Visitor        *string     `json:"visitor,omitempty"`
	Lang           string      `json:"lang,omitempty"`
	ConversationID int64       `json:"conversation_id,omitempty"`
	Seq            int64       `json:"seq,omitempty"`
	Code           string      `json:"code,omitempty"`
	Message        string      `json:"message,omitempty"`
	Status         string      `json:"status,omitempty"`
	Limits         *chatLimits `json:"limits,omitempty"`
}

type chatLimits struct {
	MaxText            int `json:"max_text"`
	MessagesPerMinute  int `json:"messages_per_minute"`
	MaxAttachmentBytes int `json:"max_attachment_bytes"`
}

// chatLoad is the load on one target.
type chatLoad struct {
	opts    chatOptions
	log     *slog.Logger
	target  *chatEndpoint
	dialers []*websocket.Dialer
	tr      *chatTracker
	text    string // of every message

	mu         sync.Mutex
	sessions   []*chatSession
	handshakes []time.Duration
	limits     *chatLimits
}

// measureChat opens the sessions, sends the messages, waits for what is
// outstanding and closes the sessions. The operator side must already feed tr.
func measureChat(ctx context.Context, env *environment, o chatOptions, name string, e *chatEndpoint, pid int, tr *chatTracker) (chatFigures, error) {
	l := &chatLoad{opts: o, log: env.log.With("target", name), target: e,
		dialers: chatDialers(e.ip, sourceAddressCount(o)), tr: tr, text: chatText(o.size)}
	f := chatFigures{Target: name, URL: e.wsURL, ServerPID: pid}
	defer l.closeAll()

	rssBefore := readRSS(pid)
	// The first session opens alone: a server that does not serve the chat is
	// reported at once, not as -sessions failures.
	first, err := l.open(ctx, 0)
	if err != nil {
		return f, fmt.Errorf("opening a first session at %s: %w", e.wsURL, err)
	}
	l.add(first)
	if o.openingMessage {
		l.message(first, l.text, phaseOpening)
	}
	l.log.Info("opening sessions", "sessions", o.sessions, "ramp", o.ramp)
	openStart := time.Now()
	l.openRest(ctx)
	f.OpenSeconds = time.Since(openStart).Seconds()
	// The measured messages start once the conversations are open (or the
	// server has had chatOpenGrace to open them).
	l.wait(ctx, chatOpenGrace)
	rssOpen := readRSS(pid)
	if ctx.Err() != nil {
		return f, ctx.Err()
	}
	f.SessionsOpened = len(l.sessions)
	if lim := l.limits; lim != nil && lim.MessagesPerMinute > 0 {
		// Over a run shorter than a minute, a session may send a minute's worth.
		perSession := o.rate * o.duration.Seconds() / float64(len(l.sessions))
		if allowed := float64(lim.MessagesPerMinute) * max(1, o.duration.Minutes()); perSession > allowed {
			l.log.Warn("each session sends more than the server's messages_per_minute allows: expect rate_limited errors",
				"messages_per_session", math.Round(perSession), "messages_per_minute", lim.MessagesPerMinute)
		}
	}

	l.log.Info("sending", "rate", o.rate, "duration", o.duration)
	sendStart := time.Now()
	serverCPU, generatorCPU := cpuTime(pid), cpuTime(os.Getpid())
	l.send(ctx, sendStart)
	sendEnd := time.Now()
	l.wait(ctx, o.drain)
	if busy := time.Since(sendStart).Seconds(); busy > 0 {
		f.ServerCPU = 100 * (cpuTime(pid) - serverCPU).Seconds() / busy
		f.GeneratorCPU = 100 * (cpuTime(os.Getpid()) - generatorCPU).Seconds() / busy
	}
	for _, s := range l.sessions {
		if !s.dropped.Load() {
			f.SessionsHeld++
		}
	}
	rssEnd := readRSS(pid)

	t := tr.snapshot()
	m := &t.phases[phaseMeasured]
	m.sortLatencies()
	f.Sent, f.Acked, f.Delivered = m.sent, len(m.ackLat), len(m.opLat)
	f.SentPerSecond = float64(m.sent) / sendEnd.Sub(sendStart).Seconds()
	if f.Acked > 0 {
		f.AckedPerSecond = float64(f.Acked) / m.lastAck.Sub(sendStart).Seconds()
	}
	f.P50ms, f.P99ms = millis(percentile(m.opLat, 0.50)), millis(percentile(m.opLat, 0.99))
	if len(m.opLat) > 0 {
		f.MaxMs = millis(m.opLat[len(m.opLat)-1])
	}
	f.AckP50ms, f.AckP99ms = millis(percentile(m.ackLat, 0.50)), millis(percentile(m.ackLat, 0.99))
	if op := &t.phases[phaseOpening]; op.sent > 0 {
		op.sortLatencies()
		f.Opening = &chatOpening{Sent: op.sent, Acked: len(op.ackLat), Delivered: len(op.opLat),
			P50ms: millis(percentile(op.opLat, 0.50)), P99ms: millis(percentile(op.opLat, 0.99)),
			AckP50ms: millis(percentile(op.ackLat, 0.50)), AckP99ms: millis(percentile(op.ackLat, 0.99))}
	}
	slices.Sort(l.handshakes)
	f.HandshakeP99ms = millis(percentile(l.handshakes, 0.99))
	if rssBefore > 0 && rssOpen > 0 && f.SessionsOpened > 0 {
		f.RSSBeforeKiB, f.RSSOpenKiB, f.RSSEndKiB = rssBefore, rssOpen, rssEnd
		perSession := float64(rssOpen-rssBefore) / float64(f.SessionsOpened)
		f.RSSPerSessionKiB = &perSession
	}
	f.ErrorKinds = t.errors
	if n := o.sessions - f.SessionsOpened - t.openFailures; n > 0 {
		f.ErrorKinds["session not opened in time"] += n
	}
	for _, m := range t.pending {
		f.ErrorKinds[m.phase.String()+" not acknowledged"]++
	}
	for _, m := range t.awaiting {
		f.ErrorKinds["operator not told of an acknowledged "+m.phase.String()]++
	}
	for _, n := range f.ErrorKinds {
		f.Errors += n
	}
	return f, nil
}

// openRest opens sessions 1..n-1 at an even pace over the ramp, with at most
// chatMaxOpening handshakes in flight; what is not open by ramp+chatOpenGrace
// is given up.
func (l *chatLoad) openRest(ctx context.Context) {
	n := l.opts.sessions
	ctx, cancel := context.WithTimeout(ctx, l.opts.ramp+chatOpenGrace)
	defer cancel()
	inFlight := make(chan struct{}, chatMaxOpening)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 1; i < n; i++ {
		at := start.Add(time.Duration(float64(l.opts.ramp) * float64(i) / float64(n)))
		if !sleepUntil(ctx, at) {
			break
		}
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-inFlight }()
			s, err := l.open(ctx, i)
			if err != nil {
				l.tr.openFailed(err)
				return
			}
			l.add(s)
			if l.opts.openingMessage {
				l.message(s, l.text, phaseOpening)
			}
		})
	}
	wg.Wait()
}

func (l *chatLoad) add(s *chatSession) {
	l.mu.Lock()
	l.sessions = append(l.sessions, s)
	l.mu.Unlock()
	go l.read(s)
}

// open connects session i as a new visitor: hello, then welcome.
func (l *chatLoad) open(ctx context.Context, i int) (*chatSession, error) {
	ctx, cancel := context.WithTimeout(ctx, chatHandshakeTimeout)
	defer cancel()
	start := time.Now()
	conn, resp, err := l.dialers[i%len(l.dialers)].DialContext(ctx, l.target.wsURL, http.Header{"Origin": {l.target.origin}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("connect: HTTP %s", resp.Status)
		}
		return nil, fmt.Errorf("connect: %w", err)
	}
	deadline, _ := ctx.Deadline()
	empty := ""
	conn.SetWriteDeadline(deadline) //nolint:errcheck // a past deadline fails the write below
	if err := conn.WriteJSON(chatFrame{Type: "hello", Visitor: &empty, Lang: "it"}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("hello: %w", err)
	}
	conn.SetReadDeadline(deadline) //nolint:errcheck
	var welcome chatFrame
	if err := conn.ReadJSON(&welcome); err != nil {
		conn.Close()
		return nil, fmt.Errorf("welcome: %w", err)
	}
	if welcome.Type != "welcome" {
		conn.Close()
		return nil, fmt.Errorf("welcome: got a %q frame %s", welcome.Type, welcome.Code)
	}
	conn.SetReadDeadline(time.Time{})  //nolint:errcheck
	conn.SetWriteDeadline(time.Time{}) //nolint:errcheck
	elapsed := time.Since(start)
	s := &chatSession{id: i, conn: conn, readDone: make(chan struct{})}
	s.lastWrite.Store(time.Now().UnixNano())
	l.mu.Lock()
	l.handshakes = append(l.handshakes, elapsed)
	if l.limits == nil && welcome.Limits != nil {
		l.limits = welcome.Limits
	}
	l.mu.Unlock()
	return s, nil
}

// read receives a session's frames until its connection ends.
func (l *chatLoad) read(s *chatSession) {
	defer close(s.readDone)
	for {
		_, data, err := s.conn.ReadMessage()
		at := time.Now()
		if err != nil {
			if !s.closing.Load() {
				s.dropped.Store(true)
				kind := "session lost"
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					kind = fmt.Sprintf("session closed by the server (%d)", ce.Code)
				}
				l.tr.fail(kind, err)
			}
			return
		}
		var f chatFrame
		if err := json.Unmarshal(data, &f); err != nil {
			l.tr.fail("unreadable frame", err)
			continue
		}
		switch f.Type {
		case "ack":
			l.tr.ack(f.ClientID, msgKey{f.ConversationID, f.Seq}, at)
		case "error":
			l.tr.refused(f.ClientID, f.Code, f.Message)
		}
	}
}

// send paces the messages: by each tick it has sent rate × elapsed in all, each
// from the next session in turn, and each write runs on its own goroutine, so
// that a session whose socket is slow does not hold back the others.
func (l *chatLoad) send(ctx context.Context, start time.Time) {
	interval := min(100*time.Millisecond, max(time.Millisecond, time.Duration(float64(time.Second)/l.opts.rate)))
	tick := time.NewTicker(interval)
	defer tick.Stop()
	nextPing := start.Add(5 * time.Second)
	var sent, next int
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			elapsed := now.Sub(start)
			if elapsed >= l.opts.duration {
				return
			}
			for due := int(l.opts.rate * elapsed.Seconds()); sent < due; sent++ {
				s := l.nextLive(&next)
				if s == nil {
					return // every session is gone
				}
				go l.message(s, l.text, phaseMeasured)
			}
			if now.After(nextPing) {
				l.pingIdle(now)
				nextPing = now.Add(5 * time.Second)
			}
		}
	}
}

// nextLive returns the next session, in turn, whose connection is up.
func (l *chatLoad) nextLive(next *int) *chatSession {
	for range l.sessions {
		s := l.sessions[*next%len(l.sessions)]
		*next++
		if !s.dropped.Load() {
			return s
		}
	}
	return nil
}

func (l *chatLoad) message(s *chatSession, text string, phase chatPhase) {
	id := "bench-" + strconv.Itoa(s.id) + "-" + strconv.FormatInt(s.sent.Add(1), 10)
	frame, err := json.Marshal(chatFrame{Type: "message", ClientID: id, Text: text})
	if err != nil {
		l.tr.fail("write", err)
		return
	}
	l.tr.send(id, phase, time.Now())
	if err := l.write(s, frame); err != nil {
		l.tr.unsent(id)
		l.tr.fail("write", err)
	}
}

// pingIdle sends the protocol's keep-alive on sessions idle for a while, as the
// widget does.
func (l *chatLoad) pingIdle(now time.Time) {
	ping := []byte(`{"type":"ping"}`)
	for _, s := range l.sessions {
		if !s.dropped.Load() && now.Sub(time.Unix(0, s.lastWrite.Load())) > chatIdlePing {
			go func() {
				if err := l.write(s, ping); err != nil {
					l.tr.fail("write", err)
				}
			}()
		}
	}
}

func (l *chatLoad) write(s *chatSession, frame []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.lastWrite.Store(time.Now().UnixNano())
	s.conn.SetWriteDeadline(time.Now().Add(chatWriteTimeout)) //nolint:errcheck
	return s.conn.WriteMessage(websocket.TextMessage, frame)
}

// wait returns once nothing is outstanding (every message acknowledged and
// told to the operator side), or after drain.
func (l *chatLoad) wait(ctx context.Context, drain time.Duration) {
	deadline := time.Now().Add(drain)
	for time.Now().Before(deadline) && l.tr.outstanding() > 0 {
		if !sleepUntil(ctx, time.Now().Add(20*time.Millisecond)) {
			return
		}
	}
}

// closeAll closes every session as a browser closing its tab would (a close
// frame, then the connection), 64 at a time.
func (l *chatLoad) closeAll() {
	closeFrame := websocket.FormatCloseMessage(websocket.CloseGoingAway, "")
	work := make(chan *chatSession)
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for s := range work {
				s.closing.Store(true)
				s.conn.WriteControl(websocket.CloseMessage, closeFrame, time.Now().Add(time.Second)) //nolint:errcheck // closing anyway
				s.conn.Close()
				<-s.readDone
			}
		})
	}
	for _, s := range l.sessions {
		work <- s
	}
	close(work)
	wg.Wait()
}

// chatText is a message of size bytes, cut at a character boundary.
func chatText(size int) string {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		b.WriteString(benchTexts[i%len(benchTexts)])
		b.WriteByte(' ')
	}
	s := b.String()[:size]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	if strings.TrimSpace(s) == "" {
		s = "x"
	}
	return s
}

// sleepUntil waits until t, and reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// msgKey names a stored message: the operator side learns of it by these.
type msgKey struct{ conversation, seq int64 }

// chatPhase tells the sessions' first messages from the measured ones.
type chatPhase int

const (
	phaseMeasured chatPhase = iota
	phaseOpening
)

func (p chatPhase) String() string {
	if p == phaseOpening {
		return "opening message"
	}
	return "message"
}

type sentMessage struct {
	at    time.Time
	phase chatPhase
}

// phaseTimes are the latencies of the messages of one phase.
type phaseTimes struct {
	sent    int
	ackLat  []time.Duration // send → ack
	opLat   []time.Duration // send → operator side told
	lastAck time.Time
}

func (p *phaseTimes) sortLatencies() {
	slices.Sort(p.ackLat)
	slices.Sort(p.opLat)
}

// chatTracker matches each message from its send to its ack (which gives its
// conversation and sequence number) and to the moment the operator side is
// told of it; the last two may come in either order.
type chatTracker struct {
	log *slog.Logger

	mu           sync.Mutex
	pending      map[string]sentMessage // by client id: not yet acknowledged
	awaiting     map[msgKey]sentMessage // acknowledged, the operator side not yet told
	early        map[msgKey]time.Time   // the operator side told before the ack came: told at
	phases       [2]phaseTimes
	openFailures int
	errors       map[string]int
}

func newChatTracker(log *slog.Logger) *chatTracker {
	return &chatTracker{log: log, pending: map[string]sentMessage{}, awaiting: map[msgKey]sentMessage{},
		early: map[msgKey]time.Time{}, errors: map[string]int{}}
}

func (t *chatTracker) send(id string, phase chatPhase, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pending[id] = sentMessage{at, phase}
	t.phases[phase].sent++
}

// unsent forgets a message whose write failed: it never left.
func (t *chatTracker) unsent(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m, ok := t.pending[id]; ok {
		delete(t.pending, id)
		t.phases[m.phase].sent--
	}
}

func (t *chatTracker) ack(id string, k msgKey, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, ok := t.pending[id]
	if !ok {
		return // acknowledged again: counted already
	}
	delete(t.pending, id)
	p := &t.phases[m.phase]
	p.ackLat = append(p.ackLat, at.Sub(m.at))
	p.lastAck = at
	if toldAt, ok := t.early[k]; ok {
		delete(t.early, k)
		p.opLat = append(p.opLat, toldAt.Sub(m.at))
		return
	}
	t.awaiting[k] = m
}

// operatorTold records the moment the operator side learnt of message k.
func (t *chatTracker) operatorTold(k msgKey, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m, ok := t.awaiting[k]; ok {
		delete(t.awaiting, k)
		p := &t.phases[m.phase]
		p.opLat = append(p.opLat, at.Sub(m.at))
		return
	}
	// Not acknowledged yet, or not one of ours (another visitor, a system
	// message): kept until the ack, if one comes.
	t.early[k] = at
}

// refused counts an error frame; one about a message ends its wait for an ack.
func (t *chatTracker) refused(id, code, message string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.pending, id)
	t.count("server error "+code, errors.New(message))
}

func (t *chatTracker) openFailed(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.openFailures++
	kind, _, _ := strings.Cut(err.Error(), ":")
	t.count("session not opened ("+kind+")", err)
}

func (t *chatTracker) fail(kind string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.count(kind, err)
}

// count adds an error of a kind, logging the first of each kind in full.
func (t *chatTracker) count(kind string, err error) {
	if t.errors[kind] == 0 {
		t.log.Warn("error (only the first of each kind is logged)", "kind", kind, "err", err)
	}
	t.errors[kind]++
}

func (t *chatTracker) outstanding() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending) + len(t.awaiting)
}

// trackerState is a copy of what a tracker knows.
type trackerState struct {
	pending      map[string]sentMessage
	awaiting     map[msgKey]sentMessage
	phases       [2]phaseTimes
	openFailures int
	errors       map[string]int
}

// snapshot copies the tracker's state.
func (t *chatTracker) snapshot() trackerState {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := trackerState{pending: maps.Clone(t.pending), awaiting: maps.Clone(t.awaiting), errors: maps.Clone(t.errors),
		openFailures: t.openFailures, phases: t.phases}
	for i, p := range t.phases {
		c.phases[i].ackLat, c.phases[i].opLat = slices.Clone(p.ackLat), slices.Clone(p.opLat)
	}
	return c
}

// chatOperator is the operator side of one target.
type chatOperator struct {
	describe string
	stop     func()
}

// startHubOperator subscribes to the ente's events with a crm.Hub on the
// server's database, as the console does: each message event comes from the
// NOTIFY of the transaction that stored the message, so the operator side
// learns only of committed messages.
func startHubOperator(ctx context.Context, env *environment, ente string, tr *chatTracker) (*chatOperator, error) {
	db, err := openDatabase(ctx, env, false)
	if err != nil {
		return nil, fmt.Errorf("operator side: %w", err)
	}
	tenant, err := crm.NewStore(db.pool).TenantBySlug(ctx, ente)
	if err != nil {
		db.close(env.log)
		return nil, fmt.Errorf("operator side: the ente %q in the server's database (is it the one of DATABASE_URL or DIALOGO_DATA_DIR? "+
			"did dialogo demo run?): %w", ente, err)
	}
	hub := crm.NewHub(db.pool, env.log)
	hubCtx, cancel := context.WithCancel(ctx)
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		hub.Run(hubCtx) //nolint:errcheck // it returns only when hubCtx ends
	}()
	filter := func(e crm.Event) bool { return e.Kind == crm.EventMessage && e.TenantID == tenant.ID && !e.Private }
	// A subscriber that falls behind by this many events is cut off.
	const buffer = 1 << 16
	sub := hub.Subscribe(filter, buffer)
	consumerDone := make(chan struct{})
	go func() {
		defer close(consumerDone)
		for {
			e, ok := <-sub.C
			if !ok {
				if hubCtx.Err() != nil {
					return
				}
				tr.fail("operator side cut off (fell behind; events missed)", errors.New("subscription closed"))
				sub = hub.Subscribe(filter, buffer)
				continue
			}
			if e.Kind == crm.EventResync {
				tr.fail("operator side resync (listener reconnected; events missed)", errors.New("resync"))
				continue
			}
			tr.operatorTold(msgKey{e.ConversationID, e.Seq}, time.Now())
		}
	}()
	stop := func() {
		cancel()
		<-hubDone
		<-consumerDone
		db.close(env.log)
	}
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		stop()
		return nil, errors.New("operator side: the hub did not start listening within 10 s")
	case <-ctx.Done():
		stop()
		return nil, ctx.Err()
	}
	return &chatOperator{describe: fmt.Sprintf("crm.Hub (LISTEN %s) on the server's database, tenant %s (id %d)",
		crm.EventsChannel, tenant.Slug, tenant.ID), stop: stop}, nil
}

// startEchoOperator connects the echo server's one operator websocket.
func startEchoOperator(ctx context.Context, e *chatEndpoint, addr string, tr *chatTracker) (*chatOperator, error) {
	d := &websocket.Dialer{HandshakeTimeout: chatHandshakeTimeout}
	conn, _, err := d.DialContext(ctx, "ws://"+addr+"/operator/ws", http.Header{"Origin": {e.origin}})
	if err != nil {
		return nil, fmt.Errorf("operator websocket: %w", err)
	}
	var closing atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			_, data, err := conn.ReadMessage()
			at := time.Now()
			if err != nil {
				if !closing.Load() {
					tr.fail("operator websocket lost", err)
				}
				return
			}
			var f chatFrame
			if err := json.Unmarshal(data, &f); err != nil {
				tr.fail("unreadable operator frame", err)
				continue
			}
			tr.operatorTold(msgKey{f.ConversationID, f.Seq}, at)
		}
	}()
	return &chatOperator{stop: func() {
		closing.Store(true)
		conn.Close()
		<-done
	}}, nil
}

// echoServer is the baseline: the happy path of the web-chat protocol with
// nothing behind it, on gorilla/websocket's defaults. It answers hello with
// welcome and each message with an ack carrying the socket's next sequence
// number, echoes the message back (as Dialogo does, for the visitor's other
// tabs), and its hub forwards a notice of the message to the operator socket.
type echoServer struct {
	upgrader      websocket.Upgrader
	log           *slog.Logger
	conversations atomic.Int64
	toOperator    chan []byte
	dropped       atomic.Int64
}

func newEchoServer(log *slog.Logger) *echoServer {
	return &echoServer{log: log, toOperator: make(chan []byte, 1<<16)}
}

func (s *echoServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /chat/{ente}/ws", s.citizen)
	mux.HandleFunc("GET /operator/ws", s.operator)
	return mux
}

func (s *echoServer) citizen(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered the client
	}
	defer conn.Close()
	conn.SetReadLimit(16 << 10)
	var conversation, seq int64
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		var in chatFrame
		if err := json.Unmarshal(data, &in); err != nil {
			in.Type = ""
		}
		var out []any
		switch in.Type {
		case "hello":
			token := make([]byte, 16)
			rand.Read(token) //nolint:errcheck // crypto/rand does not fail
			out = append(out, map[string]any{"type": "welcome", "visitor": hex.EncodeToString(token),
				"conversation_id": nil, "status": "none", "contact": map[string]any{"name": "", "verified": false},
				"limits": chatLimits{MaxText: chatMaxText, MessagesPerMinute: 0, MaxAttachmentBytes: 0}})
		case "message":
			if conversation == 0 {
				conversation = s.conversations.Add(1)
			}
			seq++
			notice, _ := json.Marshal(chatFrame{Type: "message", ConversationID: conversation, Seq: seq})
			select {
			case s.toOperator <- notice:
			default:
				s.dropped.Add(1) // the operator socket is this far behind: the generator counts it missing
			}
			out = append(out, chatFrame{Type: "ack", ClientID: in.ClientID, ConversationID: conversation, Seq: seq},
				map[string]any{"type": "message", "conversation_id": conversation, "seq": seq, "client_id": in.ClientID,
					"author": "citizen", "text": in.Text, "attachments": []any{}, "at": time.Now().UTC().Format(time.RFC3339)})
		case "ping":
			out = append(out, chatFrame{Type: "pong"})
		default:
			out = append(out, chatFrame{Type: "error", Code: "bad_frame", Message: "unknown frame"})
		}
		for _, f := range out {
			if err := conn.WriteJSON(f); err != nil {
				return
			}
		}
	}
}

// operator streams the hub's notices to one operator socket.
func (s *echoServer) operator(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	for {
		select {
		case notice := <-s.toOperator:
			if err := conn.WriteMessage(websocket.TextMessage, notice); err != nil {
				return
			}
		case <-gone:
			return
		}
	}
}

// serveEchoUntilStdinEnds serves the echo server on addr, a loopback address,
// and prints "listening <address>" on stdout once it accepts connections. It
// stops when standard input ends (the parent closed the pipe, or died) or ctx does.
func serveEchoUntilStdinEnds(ctx context.Context, env *environment, addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || loopbackIP(host) == nil {
		return fmt.Errorf("bench chat: -serve-echo %q: use a loopback address, such as 127.0.0.1:0", addr)
	}
	if _, err := raiseOpenFilesLimit(0); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("bench chat: echo server: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		io.Copy(io.Discard, os.Stdin) //nolint:errcheck // any end of input stops the server
		cancel()
	}()
	echo := newEchoServer(env.log)
	srv := &http.Server{Handler: echo.handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close() //nolint:errcheck // closes the listener; the process exits with its sockets
	}()
	fmt.Fprintf(env.stdout, "listening %s\n", ln.Addr())
	err = srv.Serve(ln)
	if d := echo.dropped.Load(); d > 0 {
		env.log.Warn("echo server: notices dropped, the operator socket was behind", "dropped", d)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// echoProcess is the baseline's echo server, in a child process.
type echoProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
}

// startEchoProcess runs this program again as "bench chat -serve-echo".
func startEchoProcess(ctx context.Context, env *environment) (*echoProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this program to start the echo server: %w", err)
	}
	p := &echoProcess{cmd: exec.Command(exe, "bench", "chat", "-serve-echo", "127.0.0.1:0")}
	p.cmd.Stderr = env.stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the echo server: %w", err)
	}
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- l
		io.Copy(io.Discard, stdout) //nolint:errcheck
	}()
	select {
	case l := <-line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(l), "listening ")
		if !ok {
			p.stop(env)
			return nil, fmt.Errorf("the echo server did not start (it said %q)", l)
		}
		p.addr = addr
	case <-time.After(10 * time.Second):
		p.stop(env)
		return nil, errors.New("the echo server did not start within 10 s")
	case <-ctx.Done():
		p.stop(env)
		return nil, ctx.Err()
	}
	env.log.Info("echo server started", "addr", p.addr, "pid", p.cmd.Process.Pid)
	return p, nil
}

// stop closes the child's standard input, which ends it, and kills it if it
// lingers.
func (p *echoProcess) stop(env *environment) {
	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			env.log.Warn("echo server ended with an error", "err", err)
		}
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill() //nolint:errcheck
		<-done
	}
}

// loadAverage is the 1-minute load average, or 0 if it cannot be read.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, _ := strconv.ParseFloat(f, 64)
	return v
}

// readRSS returns the resident memory of process pid in KiB (VmRSS), or 0 if
// it cannot be read.
func readRSS(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kib
		}
	}
	return 0
}

// cpuTime returns the user and system CPU time process pid has used, or 0 if
// it cannot be read.
func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count from
	// after it. utime and stime are the 14th and 15th fields, in clock ticks
	// of 1/100 s (USER_HZ, which Linux fixes at 100 for /proc).
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// listeningPID finds the process that listens on a TCP port on this machine:
// the socket's inode from /proc/net/tcp{,6}, then the process holding it.
func listeningPID(port int) (int, error) {
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(f[1], ":")
			if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(p) == port {
				inodes["socket:["+f[9]+"]"] = true
			}
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("no process listens on port %d", port)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	slices.Sort(procs)
	for _, fd := range procs {
		if target, err := os.Readlink(fd); err == nil && inodes[target] {
			return strconv.Atoi(strings.Split(fd, "/")[2])
		}
	}
	return 0, fmt.Errorf("the process listening on port %d is not visible to this user", port)
}

func (r *chatReport) print(w io.Writer) error {
	fmt.Fprintf(w, "bench chat: %d sessions opened over %s, then %.0f messages/s of %d bytes for %s (drain %s)\n",
		r.Sessions, seconds(r.RampSeconds), r.Rate, r.Size, seconds(r.DurationSeconds), seconds(r.DrainSeconds))
	fmt.Fprintf(w, "client: %d CPUs (load average %.2f before the run), %s, %s; open-files limit %d; %d loopback source address(es)\n",
		r.Client.CPUs, r.LoadAverage, r.Client.Platform, r.Client.Go, r.OpenFilesLimit, r.SourceAddrs)
	for _, f := range r.Targets {
		fmt.Fprintf(w, "%-8s %s (pid %d); operator side: %s\n", f.Target+":", f.URL, f.ServerPID, f.Operator)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target  \tsessions held\tmsg/s\tp50 ms\tp99 ms\tRSS/session\terrors\t")
	for _, f := range r.Targets {
		rss := "n/a"
		if f.RSSPerSessionKiB != nil {
			rss = fmt.Sprintf("%.1f KiB", *f.RSSPerSessionKiB)
		}
		fmt.Fprintf(tw, "%-8s\t%d/%d\t%.0f\t%.2f\t%.2f\t%s\t%d\t\n",
			f.Target, f.SessionsHeld, r.Sessions, f.AckedPerSecond, f.P50ms, f.P99ms, rss, f.Errors)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, f := range r.Targets {
		fmt.Fprintf(w, "%s: sessions opened in %.1f s (handshake p99 %.1f ms); sent %d (%.0f/s), acknowledged %d "+
			"(p50 %.2f ms, p99 %.2f ms), operator side told of %d (max %.1f ms); RSS %d → %d → %d KiB; "+
			"CPU while sending: server %.0f%%, generator %.0f%% of a core\n",
			f.Target, f.OpenSeconds, f.HandshakeP99ms, f.Sent, f.SentPerSecond, f.Acked, f.AckP50ms, f.AckP99ms,
			f.Delivered, f.MaxMs, f.RSSBeforeKiB, f.RSSOpenKiB, f.RSSEndKiB, f.ServerCPU, f.GeneratorCPU)
		if op := f.Opening; op != nil {
			fmt.Fprintf(w, "  opening messages (one per session, each opening a conversation): sent %d, acknowledged %d "+
				"(p50 %.2f ms, p99 %.2f ms), operator side told of %d (p50 %.2f ms, p99 %.2f ms)\n",
				op.Sent, op.Acked, op.AckP50ms, op.AckP99ms, op.Delivered, op.P50ms, op.P99ms)
		}
		for _, k := range slices.Sorted(maps.Keys(f.ErrorKinds)) {
			fmt.Fprintf(w, "  error: %s × %d\n", k, f.ErrorKinds[k])
		}
	}
	return nil
}

func seconds(s float64) string { return time.Duration(s * float64(time.Second)).String() }
